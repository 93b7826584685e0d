using System.Reflection;

namespace Slimta.Host.Plugins;

/// <summary>A plugin assembly loaded into its own load context.</summary>
/// <param name="Name">The assembly's simple name.</param>
/// <param name="Path">The full path of the assembly file.</param>
/// <param name="Assembly">The loaded assembly.</param>
/// <param name="IsRegistered">True when it carried <c>[assembly: SlimtaPlugin]</c> and registered its factories.</param>
public sealed record LoadedPlugin(string Name, string Path, Assembly Assembly, bool IsRegistered);
