namespace Slimta.Plugins.MailAuth.Dkim;

/// <summary>One configured key before its file is read.</summary>
/// <param name="Domain">The signing domain (<c>d=</c>).</param>
/// <param name="Selector">The selector (<c>s=</c>).</param>
/// <param name="KeyPath">The key file as written in the configuration.</param>
/// <param name="ConfigPath">The key path of <c>key</c> in slimta.conf, for errors.</param>
internal sealed record DkimKeySpec(string Domain, string Selector, string KeyPath, string ConfigPath);
