using Slimta.Abstractions.Configuration;

namespace Slimta.Abstractions.Plugins;

/// <summary>
/// Builds one kind of component from its options. The host calls <see cref="Validate"/> for every
/// configured component before it creates anything or opens any port; Validate must have no side
/// effects and throw <see cref="ConfigException"/> (see <see cref="ComponentOptions.Error"/>) for
/// every problem it can find. <see cref="Create"/> is called only after every component validated.
/// </summary>
/// <typeparam name="T">The component interface.</typeparam>
public interface IComponentFactory<out T>
{
    /// <summary>Checks the options without side effects.</summary>
    void Validate(ComponentOptions options);

    /// <summary>Creates the component.</summary>
    T Create(ComponentOptions options, ComponentContext context);
}
