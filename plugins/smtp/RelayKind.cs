namespace Slimta.Plugins.Smtp;

/// <summary>Which SMTP relay type a configuration section describes.</summary>
internal enum RelayKind
{
    /// <summary><c>static</c>: SMTP to one smart host.</summary>
    Static,

    /// <summary><c>lmtp</c>: LMTP to one host.</summary>
    Lmtp,

    /// <summary><c>mx</c>: SMTP to each recipient domain's mail exchangers.</summary>
    Mx,
}
