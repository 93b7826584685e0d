namespace Slimta.Smtp.Spf;

/// <summary>The counters one check_host() evaluation shares across include and redirect (RFC 7208 §4.6.4).</summary>
internal sealed class SpfEvaluation
{
    /// <summary>At most 10 mechanisms and modifiers that query DNS (§4.6.4).</summary>
    public const int MaxLookups = 10;

    /// <summary>At most 2 lookups that return no records (§4.6.4, the "void lookup" limit).</summary>
    public const int MaxVoidLookups = 2;

    public int Lookups { get; private set; }

    public int VoidLookups { get; private set; }

    /// <summary>Counts a DNS-querying term; false when the limit is exceeded (permerror).</summary>
    public bool CountLookup() => ++Lookups <= MaxLookups;

    /// <summary>Counts a void lookup; false when the limit is exceeded (permerror).</summary>
    public bool CountVoid() => ++VoidLookups <= MaxVoidLookups;
}
