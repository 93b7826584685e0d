using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>add_received_header</c>: prepends a trace field (RFC 5321 §4.4; RFC 5322 §3.6.7) to every
/// message, folded over three lines:
/// <code>
/// Received: from ehlo.example.org (client.example.org [192.0.2.1])
///         by mx.example.com (Slimta 0.1.0) with ESMTPS id 0123abcd
///         for &lt;rcpt@example.com&gt;; Sat, 28 Nov 2026 21:04:05 +0000
/// </code>
/// The <c>for</c> clause names the recipient only when there is exactly one, so a message to
/// many does not disclose its Bcc recipients to each of them (RFC 5321 §7.2).
/// </summary>
internal sealed class AddReceivedHeaderPolicy(string hostname, TimeProvider time) : IQueuePolicy
{
    /// <summary>Folding puts each clause group on a continuation line starting with a tab (RFC 5322 §2.2.3).</summary>
    private const string Fold = "\r\n\t";

    private static readonly string Version = ReadVersion();

    public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        envelope.Message = envelope.Message.PrependHeader("Received", Build(envelope));
        return ValueTask.FromResult<IReadOnlyList<Envelope>?>(null);
    }

    internal string Build(Envelope envelope)
    {
        var value = new StringBuilder();
        var from = FromClause(envelope.Client);
        if (from is not null)
        {
            value.Append(from).Append(Fold);
        }

        value.Append("by ").Append(hostname).Append(" (Slimta ").Append(Version).Append(')');
        value.Append(" with ").Append(Atom(envelope.Client.Protocol) ?? "SMTP");
        if (!string.IsNullOrEmpty(envelope.Id))
        {
            value.Append(" id ").Append(envelope.Id);
        }

        var date = RfcDate.Format(RfcDate.StampTime(envelope.ReceivedAt, time), time);
        if (envelope.Recipients.Count == 1)
        {
            value.Append(Fold).Append("for <").Append(Clean(envelope.Recipients[0])).Append(">; ").Append(date);
        }
        else
        {
            value.Append(';').Append(Fold).Append(date);
        }
        return value.ToString();
    }

    /// <summary>
    /// <c>from &lt;ehlo&gt; (&lt;rdns&gt; [&lt;ip&gt;])</c>: the name the client claimed, then what this
    /// MTA saw (RFC 5321 §4.4 TCP-info). Null when nothing is known about the client.
    /// </summary>
    private static string? FromClause(ClientInfo client)
    {
        var literal = client.Address is null ? null : AddressLiteral(client.Address);
        var ehlo = Atom(client.EhloName) ?? literal;
        if (ehlo is null)
        {
            return null;
        }
        var rdns = Atom(client.ReverseDns);
        var tcpInfo = (rdns, literal) switch
        {
            (null, null) => null,
            (null, _) => literal,
            (_, null) => rdns,
            _ => rdns + " " + literal,
        };
        return tcpInfo is null ? $"from {ehlo}" : $"from {ehlo} ({tcpInfo})";
    }

    /// <summary>RFC 5321 §4.1.3 address literal: <c>[192.0.2.1]</c> or <c>[IPv6:2001:db8::1]</c>.</summary>
    private static string AddressLiteral(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[IPv6:{address}]" : $"[{address}]";
    }

    /// <summary>
    /// A client-supplied name made safe for a header: control characters, white space and the
    /// characters that delimit trace clauses ( "(", ")", ";" ) are dropped, so a hostile EHLO
    /// cannot forge extra clauses or fields. Null when nothing remains.
    /// </summary>
    private static string? Atom(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        var clean = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (!char.IsControl(c) && !char.IsWhiteSpace(c) && c is not ('(' or ')' or ';'))
            {
                clean.Append(c);
            }
        }
        return clean.Length == 0 ? null : clean.ToString();
    }

    private static string Clean(string address)
    {
        var clean = new StringBuilder(address.Length);
        foreach (char c in address)
        {
            if (!char.IsControl(c) && c is not ('<' or '>'))
            {
                clean.Append(c);
            }
        }
        return clean.ToString();
    }

    /// <summary>The product version without build metadata (<c>0.1.0</c>, not <c>0.1.0+commit</c>).</summary>
    private static string ReadVersion()
    {
        var informational = typeof(AddReceivedHeaderPolicy).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return typeof(AddReceivedHeaderPolicy).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        }
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }

    internal static string ProductVersion => Version;
}
