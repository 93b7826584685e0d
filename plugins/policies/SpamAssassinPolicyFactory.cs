using Slimta.Smtp.Spamc;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// Builds <see cref="SpamAssassinPolicy"/> from <c>host</c> (default <c>127.0.0.1</c>), <c>port</c>
/// (default 783, spamd's port) and <c>timeout</c> (seconds for the whole exchange, default 30:
/// the SMTP client waits for the queue's answer after DATA).
/// </summary>
internal sealed class SpamAssassinPolicyFactory : IComponentFactory<IQueuePolicy>
{
    internal const int DefaultPort = 783;

    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public void Validate(ComponentOptions options) => Read(options);

    public IQueuePolicy Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (host, port, timeout) = Read(options);
        return new SpamAssassinPolicy(new SpamcClient(host, port, timeout, context.Time));
    }

    private static (string Host, int Port, TimeSpan Timeout) Read(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", "host", "port", "timeout");
        var host = options.GetString("host") ?? "127.0.0.1";
        if (host.Length == 0)
        {
            throw options.Error("host", "must not be empty");
        }
        int port = options.GetInt32("port", DefaultPort, 1, 65535);
        var timeout = options.GetSeconds("timeout", DefaultTimeout);
        if (timeout <= TimeSpan.Zero)
        {
            throw options.Error("timeout", "must be more than 0 seconds");
        }
        return (host, port, timeout);
    }
}
