using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>Builds <see cref="AddHeaderRelayPolicy"/> from <c>name</c> and <c>value</c> (both required).</summary>
internal sealed class AddHeaderRelayPolicyFactory : IComponentFactory<IRelayPolicy>
{
    public void Validate(ComponentOptions options) => Read(options);

    public IRelayPolicy Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (name, value) = Read(options);
        return new AddHeaderRelayPolicy(name, context.Expand(value));
    }

    private static (string Name, string Value) Read(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", "name", "value");
        var name = options.GetRequiredString("name");
        // RFC 5322 §3.6.8: a field name is printable ASCII except the colon.
        if (name.Length == 0 || name.Any(c => c is <= ' ' or >= (char)127 or ':'))
        {
            throw options.Error("name", $"'{name}' is not a header field name (printable ASCII, no space or colon)");
        }
        var value = options.GetRequiredString("value");
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw options.Error("value", "must be one line (a line break would start another header)");
        }
        return (name, value);
    }
}
