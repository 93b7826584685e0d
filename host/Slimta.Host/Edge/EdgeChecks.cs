using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Dns;
using Slimta.Host.Edge.Dnsbl;
using Slimta.Host.Edge.Lookups;
using Slimta.Host.Edge.Spam;
using Slimta.Smtp.Spf;
using Slimta.Smtp.Server;

using Slimta.Smtp.Spamc;

namespace Slimta.Host.Edge;

/// <summary>
/// The running checks of an SMTP edge: DNSBL at connection, SPF at MAIL, address lookups at
/// MAIL/RCPT, spamd after DATA, and the client's reverse DNS name. A check that cannot be made
/// (DNS, Redis, spamd down) answers with a temporary failure — never a silent pass — except DNSBL,
/// whose lookup failure lets the client in (a blocklist outage must not stop all mail; it is logged).
/// </summary>
internal sealed class EdgeChecks : IAsyncDisposable
{
    private static readonly Reply LookupFailed = new(451, "4.3.0", "Address lookup failed, try again later");
    private static readonly Reply SpamdFailed = new(451, "4.7.1", "Message could not be checked for spam, try again later");

    private readonly EdgeRuleSettings _settings;
    private readonly ILogger _logger;
    private readonly DnsblChecker? _dnsbl;
    private readonly SpfEvaluator? _spf;
    private readonly SpamcClient? _spamd;
    private readonly ReverseDnsLookup? _reverseDns;
    private static readonly Task<string?> NoName = Task.FromResult<string?>(null);
    private readonly ConditionalWeakTable<SmtpSessionInfo, Task<string?>> _names = [];
    private readonly ConditionalWeakTable<SmtpSessionInfo, Task<string?>>.CreateValueCallback _lookupReverseDns;

    public EdgeChecks(SmtpEdgeOptions options, ComponentContext context, string hostname, ILogger logger)
    {
        _settings = options.Checks;
        _logger = logger;
        _lookupReverseDns = LookupReverseDns;
        Senders = ResolvePaths(options.Senders, context);
        Recipients = ResolvePaths(options.Recipients, context);
        if (_settings.NeedsDns)
        {
            var dns = new DnsClientResolver(_settings.Dns, context.Time);
            _dnsbl = _settings.Dnsbl is null ? null : new DnsblChecker(_settings.Dnsbl, dns);
            _spf = _settings.RejectSpf.Count == 0 ? null : new SpfEvaluator(dns, hostname);
            _reverseDns = _settings.ReverseDns ? new ReverseDnsLookup(dns) : null;
        }
        _spamd = _settings.RejectSpam is null ? null : new SpamcClient(_settings.RejectSpam.Host, _settings.RejectSpam.Port, _settings.RejectSpam.Timeout, context.Time);
    }

    public AddressRules Senders { get; }

    public AddressRules Recipients { get; }

    /// <summary>The refusal for a client a DNSBL lists (RFC 5782), or null to greet it.</summary>
    public async Task<Reply?> CheckConnectionAsync(EndPoint? remote, CancellationToken cancellationToken)
    {
        if (_dnsbl is null || remote is not IPEndPoint ip)
        {
            return null;
        }
        DnsblResult result;
        try
        {
            result = await _dnsbl.CheckAsync(ip.Address, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The edge is stopping: the session that follows says 421 and closes.
            return null;
        }
        if (result.Failed.Count > 0)
        {
            _logger.LogWarning("DNSBL lookup of {Client} failed for {Zones}; not counted as listed", ip.Address, string.Join(", ", result.Failed));
        }
        if (!result.IsListed)
        {
            return null;
        }
        // The edge logs the refusal as a 'connection_refused' event; which zone listed it is detail.
        _logger.LogDebug("Refusing {Client}: listed by {Zone}", ip.Address, result.ListedBy);
        return new Reply(554, "5.7.1", $"Client {ip.Address} is listed by {result.ListedBy}");
    }

    /// <summary>The sender rules and SPF (RFC 7208 §8 replies) for MAIL; null to accept.</summary>
    public async ValueTask<Reply?> CheckSenderAsync(SmtpSessionInfo session, string sender, CancellationToken cancellationToken)
    {
        _ = StartReverseDns(session);
        var refused = await CheckAddressAsync(Senders, sender, "Sender", cancellationToken).ConfigureAwait(false);
        if (refused is not null || _spf is null || session.RemoteEndPoint is not IPEndPoint ip)
        {
            return refused;
        }
        var result = await _spf.CheckSenderAsync(ip.Address, sender, session.EhloName, cancellationToken).ConfigureAwait(false);
        _logger.LogDebug("SPF for {Client} sending as <{Sender}>: {Result}", ip.Address, sender, result);
        if (!_settings.RejectSpf.Contains(result))
        {
            return null;
        }
        _logger.LogInformation("Refusing sender <{Sender}> from {Client}: SPF {Result}", sender, ip.Address, result);
        return result switch
        {
            // RFC 7208 §8.6: temperror → 451 4.4.3; §8.7: permerror → 550 5.5.2; §8.4/8.5 and the
            // rest of what the configuration refuses: 550 5.7.23 (RFC 7372).
            SpfResult.TempError => new Reply(451, "4.4.3", "SPF check failed temporarily, try again later"),
            SpfResult.PermError => new Reply(550, "5.5.2", "SPF record of the sender domain is invalid"),
            _ => new Reply(550, "5.7.23", $"SPF check for <{sender}> gave {result.ToString().ToLowerInvariant()}: {ip.Address} is not allowed to send for it"),
        };
    }

    /// <summary>The recipient rules for RCPT; null to accept.</summary>
    public ValueTask<Reply?> CheckRecipientAsync(string recipient, CancellationToken cancellationToken) =>
        CheckAddressAsync(Recipients, recipient, "Recipient", cancellationToken);

    /// <summary>The spamd verdict after DATA: 550 5.7.1 for spam, 451 4.7.1 when spamd cannot answer; null to go on.</summary>
    public async ValueTask<Reply?> CheckMessageAsync(ReadOnlyMemory<byte> message, EndPoint? remote, CancellationToken cancellationToken)
    {
        if (_spamd is null)
        {
            return null;
        }
        try
        {
            var verdict = await _spamd.SymbolsAsync(message, cancellationToken).ConfigureAwait(false);
            if (!verdict.IsSpam)
            {
                return null;
            }
            _logger.LogInformation("Refusing a message from {Client}: spam score {Score} / {Threshold}", (remote as IPEndPoint)?.Address, verdict.Score, verdict.Required);
            return new Reply(550, "5.7.1", "Message refused as spam");
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidDataException or TimeoutException)
        {
            _logger.LogWarning("Spam check failed: {Error}", ex.Message);
            return SpamdFailed;
        }
    }

    /// <summary>The client's confirmed reverse DNS name when <c>reverse_dns</c> is on, else null.</summary>
    public Task<string?> ReverseDnsAsync(SmtpSessionInfo session) => StartReverseDns(session);

    public async ValueTask DisposeAsync()
    {
        foreach (var lookup in new[] { Senders.Lookup, Recipients.Lookup })
        {
            if (lookup is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private Task<string?> StartReverseDns(SmtpSessionInfo session)
    {
        if (_reverseDns is null || session.RemoteEndPoint is not IPEndPoint)
        {
            return NoName;
        }
        // Once per session, started at MAIL so it runs while the client sends RCPT and DATA; it
        // is bounded by the resolver's timeout, not by a session token.
        return _names.GetValue(session, _lookupReverseDns);
    }

    private Task<string?> LookupReverseDns(SmtpSessionInfo session) =>
        _reverseDns!.LookupAsync(((IPEndPoint)session.RemoteEndPoint!).Address, CancellationToken.None);

    private async ValueTask<Reply?> CheckAddressAsync(AddressRules rules, string address, string what, CancellationToken cancellationToken)
    {
        bool allowed;
        try
        {
            allowed = await rules.IsAllowedAsync(address, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("{What} lookup for <{Address}> failed: {Error}", what, address, ex.Message);
            return LookupFailed;
        }
        return allowed ? null : new Reply(550, "5.7.1", $"{what} <{address}> not allowed");
    }

    private static AddressRules ResolvePaths(AddressRules rules, ComponentContext context) =>
        rules.Lookup is SqliteAddressLookup sqlite ? rules with { Lookup = sqlite with { Database = context.ResolvePath(sqlite.Database) } } : rules;
}
