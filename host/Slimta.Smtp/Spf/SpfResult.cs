namespace Slimta.Smtp.Spf;

/// <summary>The results of check_host() (RFC 7208 §2.6), named as in <c>reject_spf</c>.</summary>
public enum SpfResult
{
    /// <summary>No SPF record, or no domain to check (§2.6.1).</summary>
    None,

    /// <summary>The domain makes no assertion about the client (§2.6.2, <c>?</c>).</summary>
    Neutral,

    /// <summary>The client is authorized (§2.6.3).</summary>
    Pass,

    /// <summary>The client is not authorized (§2.6.4, <c>-</c>).</summary>
    Fail,

    /// <summary>Probably not authorized (§2.6.5, <c>~</c>).</summary>
    SoftFail,

    /// <summary>A transient (generally DNS) error (§2.6.6).</summary>
    TempError,

    /// <summary>The domain's record cannot be interpreted (§2.6.7).</summary>
    PermError,
}
