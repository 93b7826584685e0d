namespace Slimta.Plugins.Smtp;

/// <summary>What to do with an 8-bit message for a server that does not offer 8BITMIME (<c>eight_bit</c>).</summary>
internal enum EightBitMode
{
    /// <summary>Re-encode the 8-bit body parts with MimeKit (quoted-printable / base64).</summary>
    Convert,

    /// <summary>Fail permanently with 554 5.6.3.</summary>
    Refuse,
}
