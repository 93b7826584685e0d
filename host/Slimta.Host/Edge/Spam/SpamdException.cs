namespace Slimta.Host.Edge.Spam;

/// <summary>spamd could not be reached or answered something other than a verdict.</summary>
public sealed class SpamdException : Exception
{
    /// <summary>Creates the error.</summary>
    public SpamdException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
