using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Server;

// AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms, and the MAIL gate of
// require_tls / required AUTH.
public sealed partial class SmtpServerSession
{
    private static readonly Reply AuthSyntax = new(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
    private static readonly Reply AuthDuringTransaction = new(503, "5.5.1", "AUTH not allowed during a mail transaction");
    private static readonly Reply AlreadyAuthenticated = new(503, "5.5.1", "Already authenticated");
    private static readonly Reply UnknownMechanism = new(504, "5.5.4", "Unrecognized authentication type");
    private static readonly Reply EncryptionRequired = new(538, "5.7.11", "Encryption required for requested authentication mechanism");
    private static readonly Reply StartTlsFirst = new(530, "5.7.0", "Must issue a STARTTLS command first");
    private static readonly Reply AuthRequired = new(530, "5.7.0", "Authentication required");
    private static readonly Reply AuthCanceled = new(501, "5.7.0", "Authentication canceled");
    private static readonly Reply BadBase64 = new(501, "5.5.2", "Cannot decode base64 response");
    private static readonly Reply BadCredentials = new(535, "5.7.8", "Authentication credentials invalid");
    private static readonly Reply AuthSucceeded = new(235, "2.7.0", "Authentication successful");
    private static readonly Reply EmptyChallenge = new(334, null, "");
    private static readonly Reply UsernameChallenge = new(334, null, "VXNlcm5hbWU6");
    private static readonly Reply PasswordChallenge = new(334, null, "UGFzc3dvcmQ6");

    internal ValueTask<bool> OnMailGatedAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        if (Security.RequireTls && !Info.IsSecure)
        {
            return ErrorAsync(StartTlsFirst, cancellationToken);
        }
        if (Security.RequireAuth && Info.AuthenticatedUser is null)
        {
            return ErrorAsync(AuthRequired, cancellationToken);
        }
        return OnMailAsync(argument, cancellationToken);
    }

    internal async ValueTask<bool> OnAuthAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        var authenticator = Security.Authenticator;
        Reply? refusal = authenticator is null ? SmtpReplies.NotImplemented
            : _state == SessionState.Connected ? SmtpReplies.NeedHelo
            : _state != SessionState.Ready ? AuthDuringTransaction
            : Info.AuthenticatedUser is not null ? AlreadyAuthenticated
            : !Info.IsSecure && Security.RequireTls ? StartTlsFirst
            : !Info.IsSecure && !Security.AllowPlaintextAuth ? EncryptionRequired
            : null;
        if (refusal is not null)
        {
            return await ErrorAsync(refusal, cancellationToken).ConfigureAwait(false);
        }
        var text = Encoding.ASCII.GetString(CommandTokenizer.TrimSpaces(argument.Span));
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        var mechanism = space < 0 ? text : text[..space];
        string? initial = space < 0 ? null : text[(space + 1)..].Trim();
        if (mechanism.Length == 0 || initial is { Length: 0 })
        {
            return await ErrorAsync(AuthSyntax, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            return mechanism.ToUpperInvariant() switch
            {
                "PLAIN" => await AuthPlainAsync(authenticator!, initial, cancellationToken).ConfigureAwait(false),
                "LOGIN" => await AuthLoginAsync(authenticator!, initial, cancellationToken).ConfigureAwait(false),
                _ => await ErrorAsync(UnknownMechanism, cancellationToken).ConfigureAwait(false),
            };
        }
        finally
        {
            // The command line buffer held the base64 password.
            Array.Clear(_line);
        }
    }

    private async ValueTask<bool> AuthPlainAsync(ISmtpAuthenticator authenticator, string? initial, CancellationToken cancellationToken)
    {
        // RFC 4954 §4: "=" is an empty initial response; without one, an empty 334 challenge.
        var response = initial == "=" ? string.Empty : initial;
        if (response is null)
        {
            var (open, line) = await ReadAuthResponseAsync(EmptyChallenge, cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return open;
            }
            response = line;
        }
        if (response == "*")
        {
            return await ErrorAsync(AuthCanceled, cancellationToken).ConfigureAwait(false);
        }
        var decoded = DecodeBase64(response);
        if (decoded is null)
        {
            return await ErrorAsync(BadBase64, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
            var span = decoded.AsSpan();
            int first = span.IndexOf((byte)0);
            int second = first < 0 ? -1 : span[(first + 1)..].IndexOf((byte)0);
            if (second < 0)
            {
                return await ErrorAsync(BadBase64, cancellationToken).ConfigureAwait(false);
            }
            second += first + 1;
            var authzid = Encoding.UTF8.GetString(span[..first]);
            var username = Encoding.UTF8.GetString(span[(first + 1)..second]);
            var password = decoded.AsMemory((second + 1)..);
            // Acting for another identity (a non-empty, different authzid) is not supported.
            bool ok = (authzid.Length == 0 || authzid == username) && await CheckCredentialsAsync(authenticator, username, password, cancellationToken).ConfigureAwait(false);
            return await FinishAuthAsync(ok, username, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
        }
    }

    private async ValueTask<bool> AuthLoginAsync(ISmtpAuthenticator authenticator, string? initial, CancellationToken cancellationToken)
    {
        var userText = initial;
        if (userText is null)
        {
            var (open, line) = await ReadAuthResponseAsync(UsernameChallenge, cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return open;
            }
            userText = line;
        }
        if (userText == "*")
        {
            return await ErrorAsync(AuthCanceled, cancellationToken).ConfigureAwait(false);
        }
        var userBytes = DecodeBase64(userText);
        if (userBytes is null)
        {
            return await ErrorAsync(BadBase64, cancellationToken).ConfigureAwait(false);
        }
        var username = Encoding.UTF8.GetString(userBytes);
        var (stillOpen, passwordText) = await ReadAuthResponseAsync(PasswordChallenge, cancellationToken).ConfigureAwait(false);
        if (passwordText is null)
        {
            return stillOpen;
        }
        if (passwordText == "*")
        {
            return await ErrorAsync(AuthCanceled, cancellationToken).ConfigureAwait(false);
        }
        var password = DecodeBase64(passwordText);
        if (password is null)
        {
            return await ErrorAsync(BadBase64, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            bool ok = await CheckCredentialsAsync(authenticator, username, password, cancellationToken).ConfigureAwait(false);
            return await FinishAuthAsync(ok, username, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private async ValueTask<bool> CheckCredentialsAsync(ISmtpAuthenticator authenticator, string username, ReadOnlyMemory<byte> password, CancellationToken cancellationToken)
    {
        if (username.Length == 0)
        {
            return false;
        }
        try
        {
            return await authenticator.CheckAsync(username, password, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(ex, "Checking credentials from {Client} failed", Info.RemoteEndPoint);
            return false;
        }
    }

    private ValueTask<bool> FinishAuthAsync(bool ok, string username, CancellationToken cancellationToken)
    {
        if (!ok)
        {
            // Counted as an error: repeated guesses end the session (max_errors).
            _logger.LogInformation("AUTH failed for {User} from {Client}", username, Info.RemoteEndPoint);
            return ErrorAsync(BadCredentials, cancellationToken);
        }
        Info.AuthenticatedUser = username;
        _logger.LogInformation("AUTH succeeded for {User} from {Client}", username, Info.RemoteEndPoint);
        return ReplyAsync(AuthSucceeded, cancellationToken);
    }

    /// <summary>
    /// Sends a 334 challenge and reads the client's response line (RFC 4954 §4). A null line means
    /// the exchange is over and already answered; Open then says whether the session goes on.
    /// </summary>
    private async ValueTask<(bool Open, string? Line)> ReadAuthResponseAsync(Reply challenge, CancellationToken cancellationToken)
    {
        Write(challenge);
        while (true)
        {
            var status = _input.TryReadLine(_line, out int length);
            switch (status)
            {
                case LineReadStatus.Line:
                    return (true, Encoding.ASCII.GetString(_line, 0, length).Trim());
                case LineReadStatus.TooLong:
                case LineReadStatus.BareLineFeed:
                    // Not a valid response: treated as a cancel so the session stays in sync.
                    return (await ErrorAsync(status == LineReadStatus.TooLong ? SmtpReplies.LineTooLong : SmtpReplies.BareLineFeed, cancellationToken).ConfigureAwait(false), null);
            }
            if (_input.IsAtEnd)
            {
                return (false, null);
            }
            var outcome = await WaitForInputAsync(_options.CommandTimeout).ConfigureAwait(false);
            if (outcome != WaitOutcome.Ready)
            {
                Write(outcome == WaitOutcome.Stopping ? SmtpReplies.ShuttingDown : SmtpReplies.Timeout);
                return (false, null);
            }
        }
    }

    private static byte[]? DecodeBase64(string text)
    {
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(text, buffer, out int written))
        {
            CryptographicOperations.ZeroMemory(buffer);
            return null;
        }
        var result = buffer.AsSpan(0, written).ToArray();
        CryptographicOperations.ZeroMemory(buffer);
        return result;
    }
}
