using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary><c>process.NAME</c>: how one executable (picked with <c>-n NAME</c>) runs.</summary>
/// <param name="Name">The process name (the key under <c>process</c>).</param>
/// <param name="Daemon">Detach from the terminal.</param>
/// <param name="Hostname">This host's short name, or null for the machine's.</param>
/// <param name="Fqdn">This host's fully qualified name, or null for the machine's.</param>
/// <param name="PidFile">Where to write the process id, or null.</param>
/// <param name="User">User to switch to after binding listeners, or null.</param>
/// <param name="Group">Group to switch to after binding listeners, or null.</param>
/// <param name="Stdout">File that receives standard output, or null.</param>
/// <param name="Stderr">File that receives standard error, or null.</param>
/// <param name="Logging">Logging settings.</param>
/// <param name="Options">The whole mapping (for keys such as <c>metrics</c>).</param>
public sealed record ProcessConfig(
    string Name,
    bool Daemon,
    string? Hostname,
    string? Fqdn,
    string? PidFile,
    string? User,
    string? Group,
    string? Stdout,
    string? Stderr,
    LoggingConfig Logging,
    ComponentOptions Options)
{
    /// <summary>The Prometheus endpoint (<c>metrics</c>), or null for none.</summary>
    public MetricsConfig? Metrics { get; init; }

    /// <inheritdoc />
    public bool Equals(ProcessConfig? other) =>
        other is not null && Name == other.Name && Daemon == other.Daemon && Hostname == other.Hostname && Fqdn == other.Fqdn
        && PidFile == other.PidFile && User == other.User && Group == other.Group && Stdout == other.Stdout
        && Stderr == other.Stderr && Logging == other.Logging && Metrics == other.Metrics && ConfigEquality.Same(Options, other.Options);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Daemon, Hostname, Fqdn);
}
