using System.Text;
using Slimta.Testing;
using Xunit.Abstractions;

namespace Slimta.EndToEnd.Tests;

/// <summary>A full spool: the edge answers 452 4.3.1, nothing accepted is lost, and mail flows again once space is free.</summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Send_SpoolFilesystemFull_Edge452ThenEveryAcceptedMessageDelivered()
    {
        // The next hop answers slowly (-w: 2 s before each DATA reply), so mail piles up in the
        // spool faster than it leaves and the 256 KiB file system fills.
        await using var sink = await SmtpSink.StartAsync("-w", "2");
        int port = FreePort.Next();
        var dir = TestPaths.NewTempDir("slimta-full");
        var spool = Path.Combine(dir, "spool");
        Directory.CreateDirectory(spool);
        var config = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(config, $$$"""
            process:
              slimta:
                logging: {level: error}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q:
                type: disk
                relay: sink
                envelope_dir: spool/envelope
                meta_dir: spool/meta
                create_dirs: true
                retry: {delay: "1", maximum: 1000}
            relay:
              sink: {type: static, host: 127.0.0.1, port: {{{sink.Port}}}, concurrent_connections: 2}
            """);

        using var server = await DiskCrashTests.StartAsync(config, port, "256k " + spool);
        try
        {
            var accepted = new List<int>();
            string? refusal = null;
            var body = new string('y', 30_000);
            await using (var smtp = await RawSmtp.ConnectAsync(port))
            {
                Assert.StartsWith("220", await smtp.ReplyAsync());
                await smtp.CommandAsync("EHLO full.test");
                for (int n = 0; n < 100 && refusal is null; n++)
                {
                    Assert.StartsWith("250", await smtp.CommandAsync("MAIL FROM:<a@full.test>"));
                    Assert.StartsWith("250", await smtp.CommandAsync("RCPT TO:<b@sink.test>"));
                    Assert.StartsWith("354", await smtp.CommandAsync("DATA"));
                    var reply = await smtp.CommandAsync($"Subject: full {n}\r\nX-Seq: {n}\r\n\r\n{body}\r\n.");
                    if (reply.StartsWith("250", StringComparison.Ordinal))
                    {
                        accepted.Add(n);
                    }
                    else
                    {
                        refusal = reply;
                    }
                }
            }
            output.WriteLine($"accepted {accepted.Count}, then: {refusal}");
            Assert.NotNull(refusal);
            Assert.StartsWith("452 4.3.1", refusal);
            Assert.True(accepted.Count >= 2, "the spool filled before anything was accepted");

            // Everything accepted arrives; the refused message does not.
            await WaitForAsync(() => accepted.All(n => SeqsAt(sink).Contains(n)), TimeSpan.FromSeconds(40));
            Assert.Equal(accepted.Order(), SeqsAt(sink).Order());

            // With the spool drained there is room again.
            await using (var smtp = await RawSmtp.ConnectAsync(port))
            {
                await smtp.ReplyAsync();
                await smtp.CommandAsync("EHLO full.test");
                await smtp.CommandAsync("MAIL FROM:<a@full.test>");
                await smtp.CommandAsync("RCPT TO:<b@sink.test>");
                await smtp.CommandAsync("DATA");
                Assert.StartsWith("250", await smtp.CommandAsync("Subject: again\r\nX-Seq: 1000\r\n\r\nsmall\r\n."));
            }
            await WaitForAsync(() => SeqsAt(sink).Contains(1000), TimeSpan.FromSeconds(20));
            Assert.Contains(1000, SeqsAt(sink));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Directory.Delete(dir, true);
        }
    }

    private static List<int> SeqsAt(SmtpSink sink)
    {
        var seqs = new List<int>();
        foreach (var file in Directory.GetFiles(sink.DumpDirectory))
        {
            var text = Encoding.ASCII.GetString(File.ReadAllBytes(file));
            int at = text.IndexOf("X-Seq: ", StringComparison.Ordinal);
            if (at >= 0)
            {
                int end = text.IndexOf('\n', at);
                seqs.Add(int.Parse(text[(at + 7)..end].Trim(), System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return seqs;
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }
}
