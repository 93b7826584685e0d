namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>What <c>verify_auth</c> does with a message that fails DMARC under a reject or quarantine policy.</summary>
internal enum DmarcAction
{
    /// <summary>Only report it in Authentication-Results.</summary>
    None,

    /// <summary>Add the configured quarantine header (delivery agents file it as junk).</summary>
    Quarantine,

    /// <summary>Refuse the message with 550 5.7.1 (RFC 7489 §10.3).</summary>
    Reject,
}
