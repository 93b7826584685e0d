namespace Slimta.Host.Plugins;

/// <summary>What a custom factory builds, which fixes the signature it must have.</summary>
public enum CustomFactoryKind
{
    /// <summary><c>static IQueue M(ComponentOptions options, IRelay? relay[, ComponentContext context])</c>.</summary>
    Queue,

    /// <summary><c>static IRelay M(ComponentOptions options[, ComponentContext context])</c>.</summary>
    Relay,

    /// <summary><c>static IEdge M(ComponentOptions options, IQueue queue[, ComponentContext context])</c>.</summary>
    Edge,
}
