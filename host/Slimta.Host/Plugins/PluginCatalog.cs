using System.Reflection;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Plugins;

/// <summary>
/// Loads plugin assemblies, each into its own load context (McMaster.NETCore.Plugins), and lets
/// those that declare <c>[assembly: SlimtaPlugin(typeof(Entry))]</c> register their factories in
/// <see cref="Registry"/>. Only the contract is shared with the host — Slimta.Abstractions, the
/// logging abstractions and the Slimta.Smtp protocol library — so a plugin's own dependencies
/// (even another version of one the host or a sibling uses) stay private to it.
/// </summary>
public sealed class PluginCatalog : IDisposable
{
    /// <summary>The name built-in registrations of the catalog itself are attributed to.</summary>
    public const string BuiltInSource = "Slimta.Host (built in)";

    /// <summary>
    /// The SMTP protocol library is shared by name: it is one copy, loaded by the host, so the
    /// protocol core has one implementation per process and its types cross the boundary.
    /// </summary>
    private const string SmtpLibraryName = "Slimta.Smtp";

    private readonly List<PluginLoader> _loaders = [];
    private readonly List<LoadedPlugin> _plugins = [];
    private readonly List<string> _directories = [];
    private readonly ILogger? _logger;

    /// <summary>Creates an empty catalog whose registry already holds the <c>custom</c> queue, relay and edge types.</summary>
    /// <param name="baseDirectory">Where a custom factory's assembly path (<c>lib/My.dll:…</c>) is resolved; usually the config file's directory.</param>
    /// <param name="logger">Receives one line per loaded plugin; optional.</param>
    public PluginCatalog(string? baseDirectory = null, ILogger? logger = null)
    {
        BaseDirectory = Path.GetFullPath(baseDirectory ?? Directory.GetCurrentDirectory());
        _logger = logger;
        CustomFactories = new CustomFactoryLoader(this);
        Registry.RegisterBuiltIn(new CustomFactoryPlugin(CustomFactories), BuiltInSource);
    }

    /// <summary>The factories registered so far.</summary>
    public PluginRegistry Registry { get; } = new();

    /// <summary>Resolves <c>factory: "Assembly:Namespace.Type.Method"</c> for custom components.</summary>
    public CustomFactoryLoader CustomFactories { get; }

    /// <summary>Where relative custom factory assembly paths are resolved.</summary>
    public string BaseDirectory { get; }

    /// <summary>Every assembly loaded so far, in load order.</summary>
    public IReadOnlyList<LoadedPlugin> Plugins => _plugins;

    /// <summary>The plugin directories loaded so far (custom factory assemblies are looked for there).</summary>
    public IReadOnlyList<string> Directories => _directories;

    /// <summary>Registers factories built into the host (for example the <c>smtp</c> edge) under <paramref name="sourceName"/>.</summary>
    public void RegisterBuiltIn(ISlimtaPlugin plugin, string sourceName) => Registry.RegisterBuiltIn(plugin, sourceName);

    /// <summary>Loads every <c>&lt;dir&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c> of each directory, in name order.</summary>
    /// <exception cref="ConfigException">A directory is missing, a plugin fails to load or register, or two claim one name.</exception>
    public void LoadDirectories(IEnumerable<string> directories)
    {
        foreach (var directory in directories)
        {
            LoadDirectory(directory);
        }
    }

    /// <summary>Loads every <c>&lt;directory&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c>, in name order.</summary>
    public void LoadDirectory(string directory)
    {
        var full = Path.GetFullPath(directory, BaseDirectory);
        if (!Directory.Exists(full))
        {
            throw new ConfigException("plugins", $"the plugin directory {full} does not exist");
        }
        if (!_directories.Contains(full, StringComparer.Ordinal))
        {
            _directories.Add(full);
        }
        foreach (var sub in Directory.GetDirectories(full).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(sub);
            var dll = Path.Combine(sub, name + ".dll");
            // Folders without <Name>.dll (data, runtimes/) are not plugins.
            if (File.Exists(dll))
            {
                LoadAssembly(dll);
            }
        }
    }

    /// <summary>
    /// Loads one plugin assembly into its own load context (or returns it when already loaded) and,
    /// when it declares <c>[assembly: SlimtaPlugin]</c>, registers its factories. An assembly
    /// without the attribute is kept for custom factories but registers nothing.
    /// </summary>
    public LoadedPlugin LoadAssembly(string assemblyPath)
    {
        var full = Path.GetFullPath(assemblyPath, BaseDirectory);
        var existing = _plugins.Find(p => string.Equals(p.Path, full, StringComparison.Ordinal));
        if (existing is not null)
        {
            return existing;
        }
        Assembly assembly;
        PluginLoader loader;
        try
        {
            loader = PluginLoader.CreateFromAssemblyFile(
                full,
                sharedTypes: [typeof(IRelay), typeof(ILogger)],
                config =>
                {
                    config.SharedAssemblies.Add(new AssemblyName(SmtpLibraryName));
                    // Only the listed contract assemblies (and what they reference) come from the
                    // host; everything else a plugin uses resolves from its own folder first.
                    // Preferring the host for all types would hand a plugin the host's (or the
                    // test runner's) copy of a library it ships itself in another version.
                    config.PreferSharedTypes = false;
                });
            assembly = loader.LoadDefaultAssembly();
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or ArgumentException or InvalidOperationException)
        {
            throw new ConfigException("plugins", $"cannot load the plugin {full}: {ex.Message}", null, ex);
        }
        _loaders.Add(loader);
        var name = assembly.GetName().Name ?? Path.GetFileNameWithoutExtension(full);
        var registered = Register(assembly, name, full);
        var plugin = new LoadedPlugin(name, full, assembly, registered);
        _plugins.Add(plugin);
        _logger?.LogDebug("Loaded plugin {Plugin} from {Path}{Registered}", name, full, registered ? string.Empty : " (no SlimtaPlugin attribute: nothing registered)");
        return plugin;
    }

    /// <summary>A loaded assembly by simple name (case-insensitive), or null.</summary>
    public LoadedPlugin? FindLoaded(string assemblyName) =>
        _plugins.Find(p => string.Equals(p.Name, assemblyName, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var loader in _loaders)
        {
            loader.Dispose();
        }
        _loaders.Clear();
    }

    private bool Register(Assembly assembly, string name, string path)
    {
        var attribute = assembly.GetCustomAttribute<SlimtaPluginAttribute>();
        if (attribute is null)
        {
            // A plugin that ships its own Slimta.Abstractions has an attribute of another type
            // identity; say so instead of silently registering nothing.
            if (assembly.GetCustomAttributesData().Any(a => a.AttributeType.FullName == typeof(SlimtaPluginAttribute).FullName))
            {
                throw new ConfigException("plugins", $"the plugin {path} carries its own copy of Slimta.Abstractions; reference it with Private=false and ExcludeAssets=runtime");
            }
            return false;
        }
        var entryType = attribute.EntryType;
        if (!typeof(ISlimtaPlugin).IsAssignableFrom(entryType) || entryType.IsAbstract || entryType.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new ConfigException("plugins", $"the plugin {path} names {entryType.FullName} as its entry type, which must be a class implementing ISlimtaPlugin with a public parameterless constructor");
        }
        ISlimtaPlugin entry;
        try
        {
            entry = (ISlimtaPlugin)Activator.CreateInstance(entryType)!;
        }
        catch (TargetInvocationException ex)
        {
            throw new ConfigException("plugins", $"the plugin {path} failed to start: {ex.InnerException?.Message}", null, ex.InnerException ?? ex);
        }
        try
        {
            Registry.RegisterBuiltIn(entry, name);
        }
        catch (Exception ex) when (ex is not ConfigException)
        {
            throw new ConfigException("plugins", $"the plugin {path} failed to register: {ex.Message}", null, ex);
        }
        return true;
    }
}
