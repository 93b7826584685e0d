using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Slimta.Testing;
using Xunit.Abstractions;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// The disk queue's promise (RFC 5321 §6.1): a 250 means the message survives a crash. The real
/// executable is killed with SIGKILL again and again while clients send numbered messages; in the
/// end every message that got a 250 must have reached the next hop (smtp-sink). Duplicates are
/// allowed (delivery is at-least-once) and reported; a loss fails the test.
/// </summary>
public sealed partial class DiskCrashTests(ITestOutputHelper output)
{
    private const int Kills = 5;
    private const int Senders = 6;

    private static string Dll => Path.Combine(TestPaths.Bin, "slimta", "slimta.dll");

    [Fact]
    public async Task Sigkill_RepeatedlyUnderLoad_EveryAcceptedMessageReachesNextHop()
    {
        await using var sink = await SmtpSink.StartAsync();
        int port = FreePort.Next();
        var dir = TestPaths.NewTempDir("slimta-crash");
        var config = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(config, $$$"""
            process:
              slimta:
                logging: {level: warning}
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
              sink: {type: static, host: 127.0.0.1, port: {{{sink.Port}}}}
            """);

        var accepted = new ConcurrentDictionary<int, bool>();
        int sent = 0;
        var random = new Random(5321);
        var clock = Stopwatch.StartNew();
        try
        {
            for (int round = 0; round < Kills; round++)
            {
                using var server = await StartAsync(config, port);
                using var stop = new CancellationTokenSource();
                var senders = Enumerable.Range(0, Senders).Select(_ => SendLoopAsync(port, () => Interlocked.Increment(ref sent), accepted, stop.Token)).ToArray();
                // Let the load run for a while, then kill at an arbitrary instant.
                await Task.Delay(random.Next(700, 1500));
                server.Kill();
                await server.WaitForExitAsync();
                await stop.CancelAsync();
                await Task.WhenAll(senders);
                output.WriteLine($"round {round}: killed after {sent} sent, {accepted.Count} accepted so far ({clock.Elapsed.TotalSeconds:F1} s)");
            }

            // The last start delivers what the spool still holds; nothing more is sent.
            using (var last = await StartAsync(config, port))
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (DateTime.UtcNow < deadline)
                {
                    var arrivedSoFar = Arrived(sink);
                    if (accepted.Keys.All(arrivedSoFar.ContainsKey))
                    {
                        break;
                    }
                    await Task.Delay(200);
                }
                // Whatever is still spooled after all accepted mail arrived are unacknowledged
                // duplicates on their way; give them a moment so the duplicate count is complete.
                await Task.Delay(500);
                last.Kill();
                await last.WaitForExitAsync();
            }
            var quarantine = Path.Combine(dir, "spool", "envelope", "quarantine");
            output.WriteLine($"quarantined files: {(Directory.Exists(quarantine) ? Directory.GetFiles(quarantine).Length : 0)}");
        }
        finally
        {
            try
            {
                Directory.Delete(dir, true);
            }
            catch (IOException)
            {
            }
        }

        var arrived = Arrived(sink);
        var lost = accepted.Keys.Where(n => !arrived.ContainsKey(n)).Order().ToList();
        int duplicates = arrived.Values.Sum(c => c - 1);
        int unacknowledged = arrived.Keys.Count(n => !accepted.ContainsKey(n));
        output.WriteLine($"sent {sent}, accepted (250) {accepted.Count}, arrived {arrived.Count} distinct / {arrived.Values.Sum()} total, " +
            $"duplicates {duplicates} ({(arrived.Count == 0 ? 0 : 100.0 * duplicates / arrived.Count):F2} %), " +
            $"delivered without a 250 seen by the client {unacknowledged}, lost {lost.Count}, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(accepted.Count >= Kills * 10, $"too little load to mean anything: {accepted.Count} accepted");
        Assert.True(lost.Count == 0, $"lost {lost.Count} messages that got a 250: {string.Join(", ", lost.Take(20))}");
    }

    /// <summary>Message numbers at the sink with how many times each arrived.</summary>
    private static Dictionary<int, int> Arrived(SmtpSink sink)
    {
        var counts = new Dictionary<int, int>();
        foreach (var file in Directory.GetFiles(sink.DumpDirectory))
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (IOException)
            {
                continue;
            }
            var match = SeqHeader().Match(Encoding.ASCII.GetString(bytes));
            if (match.Success)
            {
                int n = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                counts[n] = counts.GetValueOrDefault(n) + 1;
            }
        }
        return counts;
    }

    /// <summary>One client: sends numbered messages over one connection, reconnecting after errors, until stopped.</summary>
    private static async Task SendLoopAsync(int port, Func<int> nextNumber, ConcurrentDictionary<int, bool> accepted, CancellationToken stop)
    {
        var padding = new string('x', 1500);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var smtp = await RawSmtp.ConnectAsync(port);
                if (!(await smtp.ReplyAsync()).StartsWith("220", StringComparison.Ordinal))
                {
                    continue;
                }
                await smtp.CommandAsync("EHLO crash.test");
                while (!stop.IsCancellationRequested)
                {
                    int n = nextNumber();
                    if (!(await smtp.CommandAsync("MAIL FROM:<sender@crash.test>")).StartsWith("250", StringComparison.Ordinal)
                        || !(await smtp.CommandAsync($"RCPT TO:<rcpt{n % 7}@sink.test>")).StartsWith("250", StringComparison.Ordinal)
                        || !(await smtp.CommandAsync("DATA")).StartsWith("354", StringComparison.Ordinal))
                    {
                        await smtp.CommandAsync("RSET");
                        continue;
                    }
                    var reply = await smtp.CommandAsync($"Subject: crash {n}\r\nX-Seq: {n}\r\n\r\n{padding}\r\nmessage {n}\r\n.");
                    if (reply.StartsWith("250", StringComparison.Ordinal))
                    {
                        accepted[n] = true;
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or OperationCanceledException or ObjectDisposedException)
            {
                // The server was killed: try again until the round ends.
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }

    /// <summary>Starts the executable and waits until it accepts connections; <paramref name="tmpfs"/> ("SIZE DIR") mounts a tmpfs over DIR for it.</summary>
    internal static async Task<Process> StartAsync(string config, int port, string? tmpfs = null)
    {
        ProcessStartInfo psi;
        if (tmpfs is null)
        {
            psi = new ProcessStartInfo("dotnet");
            psi.ArgumentList.Add(Dll);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(config);
        }
        else
        {
            // A private mount namespace (unshare(1)) with a small tmpfs over the spool: a real
            // "No space left on device" that no other process sees and that vanishes with the server.
            psi = new ProcessStartInfo("unshare");
            psi.ArgumentList.Add("-m");
            psi.ArgumentList.Add("sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("mount -t tmpfs -o size=\"$1\" tmpfs \"$2\" && exec dotnet \"$3\" -c \"$4\"");
            psi.ArgumentList.Add("sh");
            foreach (var arg in tmpfs.Split(' ', 2).Append(Dll).Append(config))
            {
                psi.ArgumentList.Add(arg);
            }
        }
        var process = Process.Start(psi)!;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return process;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        if (!process.HasExited)
        {
            process.Kill();
        }
        throw new InvalidOperationException($"slimta did not start listening on {port} (exit code {(process.HasExited ? process.ExitCode : -1)})");
    }

    [GeneratedRegex(@"X-Seq: (\d+)")]
    private static partial Regex SeqHeader();
}
