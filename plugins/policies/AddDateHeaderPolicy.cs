using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>add_date_header</c>: adds <c>Date:</c> when the message has none (RFC 5322 §3.6 requires
/// exactly one), dated when the edge received the message. Appended after the existing header
/// fields, as python-slimta did; every other byte is left alone.
/// </summary>
internal sealed class AddDateHeaderPolicy(TimeProvider time) : IQueuePolicy
{
    public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (!envelope.Message.HasHeader("Date"))
        {
            var date = RfcDate.Format(RfcDate.StampTime(envelope.ReceivedAt, time), time);
            envelope.Message = envelope.Message.AppendHeader("Date", date);
        }
        return ValueTask.FromResult<IReadOnlyList<Envelope>?>(null);
    }
}
