using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Aws;

[assembly: SlimtaPlugin(typeof(AwsPlugin))]

namespace Slimta.Plugins.Aws;

/// <summary>
/// Entry point of the aws plugin: registers the queue storage <c>aws</c>, which keeps messages
/// as objects in an S3 bucket and, when <c>queue_name</c> is set, announces each one with an SQS
/// notice so that every edge and <c>slimta-worker</c> pointing at the same bucket and queue shares it.
/// </summary>
public sealed class AwsPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddStorage("aws", new AwsStorageFactory());
    }
}
