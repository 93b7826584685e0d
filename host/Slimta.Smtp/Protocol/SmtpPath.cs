namespace Slimta.Smtp.Protocol;

/// <summary>A parsed reverse-path or forward-path.</summary>
/// <param name="Address">The mailbox as written, without brackets and without any source route; empty for <c>&lt;&gt;</c>.</param>
/// <param name="IsNonAscii">True when the address contains UTF-8 (needs SMTPUTF8, RFC 6531).</param>
internal readonly record struct SmtpPath(string Address, bool IsNonAscii)
{
    /// <summary>True for the null reverse-path <c>&lt;&gt;</c>.</summary>
    public bool IsNull => Address.Length == 0;
}
