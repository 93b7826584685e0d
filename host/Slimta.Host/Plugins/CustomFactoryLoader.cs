using System.Reflection;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Plugins;

/// <summary>
/// Resolves and calls <c>factory: "Assembly:Namespace.Type.Method"</c> of <c>custom</c> queues,
/// relays and edges. The text before the first <c>:</c> names an assembly in the plugin
/// directories (or is a path ending in <c>.dll</c>, relative to the config file); it is loaded
/// through the same plugin loader as every plugin, never into the host's context. The text after
/// it is split at its last <c>.</c> into type and public static method. Every failure is a
/// <see cref="ConfigException"/> at <c>&lt;component&gt;.factory</c> that says which step failed.
/// </summary>
public sealed class CustomFactoryLoader
{
    private readonly PluginCatalog _catalog;

    internal CustomFactoryLoader(PluginCatalog catalog) => _catalog = catalog;

    /// <summary>The signature a custom factory of <paramref name="kind"/> must have, for messages and docs.</summary>
    public static string ExpectedSignature(CustomFactoryKind kind, string method = "Create") => kind switch
    {
        CustomFactoryKind.Queue => $"public static IQueue {method}(ComponentOptions options, IRelay? relay) or {method}(ComponentOptions options, IRelay? relay, ComponentContext context)",
        CustomFactoryKind.Relay => $"public static IRelay {method}(ComponentOptions options) or {method}(ComponentOptions options, ComponentContext context)",
        _ => $"public static IEdge {method}(ComponentOptions options, IQueue queue) or {method}(ComponentOptions options, IQueue queue, ComponentContext context)",
    };

    /// <summary>
    /// Finds the method named by the component's <c>factory</c> and checks its signature, without
    /// calling it (the Validate step). Loads the assembly if needed.
    /// </summary>
    public MethodInfo Resolve(ComponentOptions options, CustomFactoryKind kind)
    {
        var spec = options.GetRequiredString("factory");
        var keyPath = options.PathOf("factory");
        var location = options.Map["factory"]?.Location ?? options.Map.Location;
        ConfigException Fail(string problem, Exception? inner = null) => new(keyPath, problem, location, inner);

        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == spec.Length - 1)
        {
            throw Fail($"'{spec}' is not of the form Assembly:Namespace.Type.Method");
        }
        var assemblyPart = spec[..colon].Trim();
        var member = spec[(colon + 1)..].Trim();
        int dot = member.LastIndexOf('.');
        if (dot <= 0 || dot == member.Length - 1)
        {
            throw Fail($"'{member}' does not name a type and a method (Namespace.Type.Method)");
        }
        var typeName = member[..dot];
        var methodName = member[(dot + 1)..];

        var assembly = LoadAssembly(assemblyPart, Fail);
        var type = assembly.GetType(typeName, throwOnError: false, ignoreCase: false)
            ?? throw Fail($"type '{typeName}' not found in assembly {assembly.GetName().Name} ({assembly.Location})");
        var candidates = type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name == methodName).ToList();
        if (candidates.Count == 0)
        {
            throw Fail($"type '{typeName}' has no public static method '{methodName}'; expected: {ExpectedSignature(kind, methodName)}");
        }
        return candidates.FirstOrDefault(m => Matches(m, kind))
            ?? throw Fail($"'{typeName}.{methodName}' has the wrong signature: {string.Join("; ", candidates.Select(Describe))}; expected: {ExpectedSignature(kind, methodName)}");
    }

    /// <summary>Creates a custom queue with <paramref name="relay"/> (null when the queue names none).</summary>
    public IQueue CreateQueue(ComponentOptions options, IRelay? relay, ComponentContext context) =>
        Invoke<IQueue>(options, CustomFactoryKind.Queue, [options, relay], context);

    /// <summary>Creates a custom relay.</summary>
    public IRelay CreateRelay(ComponentOptions options, ComponentContext context) =>
        Invoke<IRelay>(options, CustomFactoryKind.Relay, [options], context);

    /// <summary>Creates a custom edge delivering into <paramref name="queue"/>.</summary>
    public IEdge CreateEdge(ComponentOptions options, IQueue queue, ComponentContext context) =>
        Invoke<IEdge>(options, CustomFactoryKind.Edge, [options, queue], context);

    private T Invoke<T>(ComponentOptions options, CustomFactoryKind kind, object?[] arguments, ComponentContext context)
        where T : class
    {
        var method = Resolve(options, kind);
        object?[] args = method.GetParameters().Length > arguments.Length ? [.. arguments, context] : arguments;
        var name = $"{method.DeclaringType?.FullName}.{method.Name}";
        object? result;
        try
        {
            result = method.Invoke(null, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            var inner = ex.InnerException;
            var error = options.Error("factory", $"the factory {name} threw {inner.GetType().Name}: {inner.Message}");
            throw new ConfigException(error.KeyPath, error.Problem, error.Location, inner);
        }
        return result as T ?? throw options.Error("factory", $"the factory {name} returned null");
    }

    private Assembly LoadAssembly(string assemblyPart, Func<string, Exception?, ConfigException> fail)
    {
        if (assemblyPart.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            var path = Path.GetFullPath(assemblyPart, _catalog.BaseDirectory);
            return File.Exists(path)
                ? Load(path, fail)
                : throw fail($"assembly not found: {path}", null);
        }
        if (_catalog.FindLoaded(assemblyPart) is { } loaded)
        {
            return loaded.Assembly;
        }
        var looked = new List<string>();
        foreach (var directory in _catalog.Directories)
        {
            foreach (var candidate in new[] { Path.Combine(directory, assemblyPart, assemblyPart + ".dll"), Path.Combine(directory, assemblyPart + ".dll") })
            {
                looked.Add(candidate);
                if (File.Exists(candidate))
                {
                    return Load(candidate, fail);
                }
            }
        }
        var where = looked.Count == 0 ? "no plugin directory is configured (top-level 'plugins')" : "looked in: " + string.Join(", ", looked);
        throw fail($"assembly '{assemblyPart}' not found; {where}", null);
    }

    private Assembly Load(string path, Func<string, Exception?, ConfigException> fail)
    {
        try
        {
            return _catalog.LoadAssembly(path).Assembly;
        }
        catch (ConfigException ex)
        {
            throw fail(ex.Problem, ex);
        }
    }

    private static bool Matches(MethodInfo method, CustomFactoryKind kind)
    {
        var (result, required) = kind switch
        {
            CustomFactoryKind.Queue => (typeof(IQueue), new[] { typeof(ComponentOptions), typeof(IRelay) }),
            CustomFactoryKind.Relay => (typeof(IRelay), new[] { typeof(ComponentOptions) }),
            _ => (typeof(IEdge), new[] { typeof(ComponentOptions), typeof(IQueue) }),
        };
        var parameters = method.GetParameters();
        if (method.IsGenericMethodDefinition || !result.IsAssignableFrom(method.ReturnType))
        {
            return false;
        }
        if (parameters.Length != required.Length && parameters.Length != required.Length + 1)
        {
            return false;
        }
        for (int i = 0; i < required.Length; i++)
        {
            if (parameters[i].ParameterType != required[i])
            {
                return false;
            }
        }
        return parameters.Length == required.Length || parameters[^1].ParameterType == typeof(ComponentContext);
    }

    private static string Describe(MethodInfo method) =>
        $"{method.ReturnType.Name} {method.Name}({string.Join(", ", method.GetParameters().Select(p => $"{p.ParameterType.Name} {p.Name}"))})";
}
