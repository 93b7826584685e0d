namespace Slimta.Abstractions.Plugins;

/// <summary>A receiving service: listens for messages and hands them to a queue.</summary>
public interface IEdge : IAsyncDisposable
{
    /// <summary>Opens listeners and starts accepting. Completes once listening.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops accepting and finishes in-flight work until <paramref name="cancellationToken"/> fires.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
