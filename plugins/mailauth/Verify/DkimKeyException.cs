namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>A DKIM public key could not be found: temporarily (a DNS failure) or for good.</summary>
internal sealed class DkimKeyException(string message, bool temporary) : Exception(message)
{
    /// <summary>True for a DNS failure (temperror), false for a missing or bad key (permerror).</summary>
    public bool Temporary { get; } = temporary;
}
