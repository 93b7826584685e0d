namespace Slimta.Plugins.Disk;

/// <summary>A spool file that cannot be read: torn (cut short by a crash), corrupt, or of an unknown version.</summary>
internal sealed class SpoolFormatException(string message) : Exception(message);
