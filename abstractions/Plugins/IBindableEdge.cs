namespace Slimta.Abstractions.Plugins;

/// <summary>
/// An optional extension of <see cref="IEdge"/>: an edge whose listening sockets can be opened
/// before it starts. A server started as root with <c>process.NAME.user</c> calls <see cref="Bind"/>
/// (ports below 1024 need root), then switches to the user, and only then starts its queues and
/// calls <see cref="IEdge.StartAsync"/>, so no message is ever handled as root. An edge that does
/// not implement it opens its sockets in <see cref="IEdge.StartAsync"/>, after the switch.
/// </summary>
public interface IBindableEdge : IEdge
{
    /// <summary>
    /// Opens the listening sockets (the kernel queues connections until <see cref="IEdge.StartAsync"/>
    /// accepts them). Calling it twice does nothing; <see cref="IEdge.StartAsync"/> binds first when
    /// it was never called.
    /// </summary>
    void Bind();
}
