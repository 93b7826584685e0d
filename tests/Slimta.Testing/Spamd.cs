namespace Slimta.Testing;

/// <summary>
/// SpamAssassin's spamd on 127.0.0.1 and an ephemeral port, local tests only (<c>-L</c>), no user
/// configuration (<c>-x</c>). It takes a few seconds to load its rules. The GTUBE string scores
/// about 1000.
/// </summary>
public static class Spamd
{
    /// <summary>The GTUBE test string: any message containing it is spam (spamassassin.apache.org/gtube).</summary>
    public const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    /// <summary>Starts spamd and waits until it listens.</summary>
    public static Task<ExternalServer> StartAsync()
    {
        var exe = File.Exists("/usr/sbin/spamd") ? "/usr/sbin/spamd" : "spamd";
        return ExternalServer.StartAsync(exe, "spamassassin", port =>
        {
            var args = new List<string> { "-i", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-A", "127.0.0.1", "-L", "-x", "--max-children", "2" };
            if (Environment.UserName == "root")
            {
                // spamd refuses to run its children as root.
                args.AddRange(["-u", "nobody"]);
            }
            return args;
        }, TimeSpan.FromSeconds(60));
    }
}
