using System.Security.Cryptography;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>add_message_id_header</c>: adds <c>Message-Id: &lt;unique@fqdn&gt;</c> when the message has
/// none. RFC 5322 §3.6.4 asks for a globally unique id with a domain on the right; 128 random
/// bits make the left side unique without any state.
/// </summary>
internal sealed class AddMessageIdHeaderPolicy : IQueuePolicy
{
    private readonly string _fqdn;
    private readonly Func<string> _unique;

    public AddMessageIdHeaderPolicy(string fqdn)
        : this(fqdn, static () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)))
    {
    }

    /// <summary>For tests: a fixed source of the unique part.</summary>
    internal AddMessageIdHeaderPolicy(string fqdn, Func<string> unique)
    {
        _fqdn = fqdn;
        _unique = unique;
    }

    public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (!envelope.Message.HasHeader("Message-Id"))
        {
            envelope.Message = envelope.Message.AppendHeader("Message-Id", $"<{_unique()}@{_fqdn}>");
        }
        return ValueTask.FromResult<IReadOnlyList<Envelope>?>(null);
    }
}
