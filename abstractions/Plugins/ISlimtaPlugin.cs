namespace Slimta.Abstractions.Plugins;

/// <summary>The entry point of a plugin assembly: registers its factories under their <c>type:</c> names.</summary>
public interface ISlimtaPlugin
{
    /// <summary>Registers every factory the plugin provides.</summary>
    void Register(IPluginRegistry registry);
}
