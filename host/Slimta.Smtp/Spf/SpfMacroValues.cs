using System.Net;

namespace Slimta.Smtp.Spf;

/// <summary>What the macros of RFC 7208 §7.2 expand to for one evaluation.</summary>
/// <param name="Sender">&lt;sender&gt;, local-part@domain (<c>%{s}</c>).</param>
/// <param name="Domain">The current &lt;domain&gt; (<c>%{d}</c>); changes with include/redirect.</param>
/// <param name="Address">The client's &lt;ip&gt; (<c>%{i}</c>, <c>%{c}</c>, <c>%{v}</c>).</param>
/// <param name="Helo">The HELO/EHLO name (<c>%{h}</c>).</param>
/// <param name="ReceivingHost">This MTA's name (<c>%{r}</c>, only in <c>exp</c> text).</param>
public sealed record SpfMacroValues(string Sender, string Domain, IPAddress Address, string Helo, string ReceivingHost)
{
    /// <summary>The local-part of the sender (<c>%{l}</c>).</summary>
    public string LocalPart => Sender[..Sender.LastIndexOf('@')];

    /// <summary>The domain of the sender (<c>%{o}</c>).</summary>
    public string SenderDomain => Sender[(Sender.LastIndexOf('@') + 1)..];
}
