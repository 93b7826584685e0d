namespace Slimta.Smtp.Spf;

/// <summary>The mechanisms of RFC 7208 §5.</summary>
public enum SpfMechanismKind
{
    /// <summary><c>all</c> (§5.1).</summary>
    All,

    /// <summary><c>include:domain</c> (§5.2).</summary>
    Include,

    /// <summary><c>a[:domain][/cidr][//cidr6]</c> (§5.3).</summary>
    A,

    /// <summary><c>mx[:domain][/cidr][//cidr6]</c> (§5.4).</summary>
    Mx,

    /// <summary><c>ptr[:domain]</c> (§5.5, deprecated but still evaluated).</summary>
    Ptr,

    /// <summary><c>ip4:network[/cidr]</c> (§5.6).</summary>
    Ip4,

    /// <summary><c>ip6:network[/cidr]</c> (§5.6).</summary>
    Ip6,

    /// <summary><c>exists:domain</c> (§5.7).</summary>
    Exists,
}
