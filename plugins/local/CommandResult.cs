namespace Slimta.Plugins.Local;

/// <summary>How a command run ended: its exit code (null when it was killed on timeout or could not start) and what it printed.</summary>
internal sealed record CommandResult(int? ExitCode, bool TimedOut, string Output, string? StartError);
