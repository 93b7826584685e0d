namespace Slimta.Host.Logging;

/// <summary>How a log line is written (<c>process.NAME.logging.format</c>).</summary>
public enum LogFormat
{
    /// <summary>One human-readable line: time, level, event, then <c>key=value</c> fields.</summary>
    Text,

    /// <summary>One JSON object per line.</summary>
    Json,
}
