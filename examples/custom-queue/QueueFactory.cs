using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Examples.CustomQueue;

/// <summary>The factory named in slimta.conf: <c>CustomQueue:Slimta.Examples.CustomQueue.QueueFactory.Create</c>.</summary>
public static class QueueFactory
{
    /// <summary>
    /// Called once at startup with the queue's options (every key of its section, including
    /// type, relay and factory) and the relay the queue names.
    /// </summary>
    public static IQueue Create(ComponentOptions options, IRelay relay)
    {
        options.RequireKnownKeys("type", "relay", "factory", "tag");
        var tag = options.GetString("tag") ?? "custom-queue";
        return new TaggingQueue(tag, relay);
    }
}
