using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Server;

// STARTTLS (RFC 3207) and the EHLO reply, whose keywords depend on TLS and AUTH.
public sealed partial class SmtpServerSession
{
    private static readonly Reply StartTlsSyntax = new(501, "5.5.4", "Syntax: STARTTLS (no parameters)");
    private static readonly Reply AlreadySecure = new(503, "5.5.1", "TLS already active");
    private static readonly Reply ReadyForTls = new(220, "2.0.0", "Ready to start TLS");

    /// <summary>The connection's TLS upgrade; null when the listener has no certificate (STARTTLS is then 502).</summary>
    public ISmtpTlsTransport? Tls { get; init; }

    /// <summary>The listener's AUTH and TLS policy.</summary>
    public SmtpSecurityOptions Security { get; init; } = SmtpSecurityOptions.None;

    private bool OffersStartTls => Tls is not null && !Info.IsSecure;

    private bool OffersAuth => Security.Authenticator is not null && (Info.IsSecure || Security.AllowPlaintextAuth) && !(Security.RequireTls && !Info.IsSecure);

    private Reply BuildEhloReply()
    {
        // RFC 2034 §3: the EHLO reply carries no enhanced status code.
        var lines = new List<string>(8) { _options.Hostname, "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES", "SMTPUTF8", $"SIZE {_options.MaxSize}" };
        if (OffersStartTls)
        {
            lines.Add("STARTTLS");
        }
        if (OffersAuth && Info.AuthenticatedUser is null)
        {
            // CRAM-MD5 is not offered: it needs the plaintext password on the server, and we store hashes only.
            lines.Add("AUTH PLAIN LOGIN");
        }
        return new Reply(250, null, string.Join('\n', lines));
    }

    internal async ValueTask<bool> OnStartTlsAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        if (Info.IsSecure)
        {
            // Also under implicit TLS (tls_immediately): TLS is active, so this is a sequence error.
            return await ErrorAsync(AlreadySecure, cancellationToken).ConfigureAwait(false);
        }
        if (Tls is null)
        {
            return await ErrorAsync(SmtpReplies.NotImplemented, cancellationToken).ConfigureAwait(false);
        }
        if (!CommandTokenizer.TrimSpaces(argument.Span).IsEmpty)
        {
            return await ErrorAsync(StartTlsSyntax, cancellationToken).ConfigureAwait(false);
        }
        if (_state == SessionState.Connected)
        {
            return await ErrorAsync(SmtpReplies.NeedHelo, cancellationToken).ConfigureAwait(false);
        }
        Write(ReadyForTls);
        using (var flush = new CancellationTokenSource(_options.CommandTimeout, _time))
        using (cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), flush))
        {
            try
            {
                await _output.FlushAsync(flush.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The client does not read: it will not handshake either.
                return false;
            }
        }
        var secure = await Tls.StartTlsAsync(cancellationToken).ConfigureAwait(false);
        if (secure is null)
        {
            _logger.LogInformation("TLS handshake with {Client} failed; closing", Info.RemoteEndPoint);
            return false;
        }
        // RFC 3207 §4.2: forget everything learned before TLS; the client must EHLO again.
        // ReplaceReader drops whatever the client pipelined in plaintext after STARTTLS (CVE-2011-0411).
        _input.ReplaceReader(secure.Input);
        _output = secure.Output;
        Info.IsSecure = true;
        Info.EhloName = null;
        Info.IsExtended = false;
        Info.AuthenticatedUser = null;
        _transaction = null;
        _state = SessionState.Connected;
        return true;
    }
}
