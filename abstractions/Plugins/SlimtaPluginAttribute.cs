namespace Slimta.Abstractions.Plugins;

/// <summary>
/// Marks an assembly as a Slimta plugin and names its entry type, which must implement
/// <see cref="ISlimtaPlugin"/> and have a public parameterless constructor. The host reads this
/// attribute instead of scanning every type of the assembly.
/// </summary>
/// <example><c>[assembly: SlimtaPlugin(typeof(MyPlugin))]</c></example>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class SlimtaPluginAttribute : Attribute
{
    /// <summary>Names the entry type.</summary>
    public SlimtaPluginAttribute(Type entryType) => EntryType = entryType;

    /// <summary>The type implementing <see cref="ISlimtaPlugin"/>.</summary>
    public Type EntryType { get; }
}
