using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Host.Edge;

/// <summary>
/// Builds the <c>smtp</c> edge. Keys: <c>listener</c>/<c>listeners</c>, <c>hostname</c>,
/// <c>max_size</c>, <c>max_recipients</c>, <c>max_connections</c>, <c>max_errors</c>,
/// <c>command_timeout</c>, <c>data_timeout</c>, <c>tls</c>, <c>tls_immediately</c>, <c>proxyprotocol</c>,
/// <c>rules</c> (see <see cref="SmtpEdgeOptionsParser"/>
/// and <see cref="AddressRules"/>); the host's own keys (<c>type</c>, <c>queue</c>) are passed as host keys.
/// </summary>
public sealed class SmtpEdgeFactory : IEdgeFactory
{
    /// <summary>The edge type name in slimta.conf.</summary>
    public const string TypeName = "smtp";

    /// <inheritdoc />
    public void Validate(ComponentOptions options) => SmtpEdgeOptionsParser.Parse(options);

    /// <inheritdoc />
    public IEdge Create(ComponentOptions options, IQueue queue, ComponentContext context) =>
        new SmtpEdge(SmtpEdgeOptionsParser.Parse(options), queue, context);
}
