namespace Slimta.Smtp.Protocol;

/// <summary>The outcome of looking for one command line in buffered input.</summary>
internal enum LineReadStatus
{
    /// <summary>No complete line is buffered yet; read more input.</summary>
    NeedMoreData,

    /// <summary>A line ending in CRLF, returned without the CRLF.</summary>
    Line,

    /// <summary>A line longer than <see cref="SmtpLimits.MaxCommandLine"/>; it was discarded up to its LF.</summary>
    TooLong,

    /// <summary>A line ending in a bare LF (no CR before it); it was consumed.</summary>
    BareLineFeed,
}
