using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>Mail spooled by the disk queue while the next hop is down is delivered by the next server process.</summary>
public sealed class DiskRestartTests
{
    [Fact]
    public async Task Restart_MessagesPendingOnDisk_DeliveredAfterRestart()
    {
        var spool = TestPaths.NewTempDir("slimta-restart");
        int sinkPort = FreePort.Next();
        var yaml = $$$"""
            process: {slimta: {}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: 0}}
            queue:
              q:
                type: disk
                relay: sink
                envelope_dir: {{{spool}}}/envelope
                meta_dir: {{{spool}}}/meta
                create_dirs: true
                retry: {delay: "2", maximum: 5}
            relay:
              sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}}
            """;
        try
        {
            // 1. The next hop is down: three messages are accepted, attempted, deferred; then the
            //    server stops with them still queued.
            await using (var first = await ServerHarness.StartAsync(yaml))
            {
                await using var smtp = await RawSmtp.ConnectAsync(first.PortOf());
                await smtp.ReplyAsync();
                await smtp.CommandAsync("EHLO restart.test");
                for (int i = 0; i < 3; i++)
                {
                    await smtp.CommandAsync("MAIL FROM:<a@restart.test>");
                    await smtp.CommandAsync($"RCPT TO:<r{i}@sink.test>");
                    await smtp.CommandAsync("DATA");
                    Assert.StartsWith("250 ", await smtp.CommandAsync($"Subject: pending {i}\r\n\r\nbody {i}\r\n."));
                }
                await Task.Delay(500);
            }
            Assert.Equal(3, Directory.GetFiles(Path.Combine(spool, "envelope"), "*.env").Length);
            Assert.Equal(3, Directory.GetFiles(Path.Combine(spool, "meta"), "*.meta").Length);

            // 2. The next hop is back; a new server process loads the spool and delivers each
            //    message at its stored next-attempt time.
            await using var sink = await SmtpSink.StartOnPortAsync(sinkPort);
            await using (await ServerHarness.StartAsync(yaml))
            {
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (DateTime.UtcNow < deadline && Directory.GetFiles(sink.DumpDirectory).Length < 3)
                {
                    await Task.Delay(100);
                }
                var arrived = Directory.GetFiles(sink.DumpDirectory).Select(f => SmtpSink.Parse(File.ReadAllBytes(f))).ToList();
                Assert.Equal(["r0@sink.test", "r1@sink.test", "r2@sink.test"], arrived.SelectMany(m => m.Recipients).Order());
                Assert.All(arrived, m => Assert.Contains("Subject: pending ", System.Text.Encoding.UTF8.GetString(m.Data)));
                deadline = DateTime.UtcNow.AddSeconds(10);
                while (DateTime.UtcNow < deadline && Directory.GetFiles(Path.Combine(spool, "envelope"), "*.env").Length > 0)
                {
                    await Task.Delay(50);
                }
            }
            Assert.Empty(Directory.GetFiles(Path.Combine(spool, "envelope"), "*.env"));
            Assert.Empty(Directory.GetFiles(Path.Combine(spool, "meta"), "*.meta"));
        }
        finally
        {
            Directory.Delete(spool, true);
        }
    }
}
