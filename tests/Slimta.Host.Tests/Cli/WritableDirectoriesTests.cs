using Slimta.Host.Cli;
using Slimta.Host.Tests.Configuration;

namespace Slimta.Host.Tests.Cli;

public sealed class WritableDirectoriesTests
{
    [Fact]
    public void Of_DiskQueueAndMtaStsCache_NamesEachDirectoryWithItsKey()
    {
        var config = ConfigTestHelpers.LoadYaml("""
            process:
              slimta: {}
            queue:
              q: {type: disk, envelope_dir: spool/env, meta_dir: spool/meta}
            relay:
              internet: {type: mx, mta_sts: {cache_file: state/mta-sts.json}}
              plain: {type: mx, mta_sts: true}
            """, "/srv/mail");

        var found = WritableDirectories.Of(config).ToList();

        Assert.Contains(found, d => d.KeyPath == "queue.q.envelope_dir" && d.Directory == "/srv/mail/spool/env" && d.Consequence.Contains("refused"));
        var cache = Assert.Single(found, d => d.KeyPath == "relay.internet.mta_sts.cache_file");
        Assert.Equal("/srv/mail/state", cache.Directory);
        Assert.Contains("MTA-STS", cache.Consequence);
    }
}
