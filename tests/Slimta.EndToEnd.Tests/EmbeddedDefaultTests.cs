using System.Diagnostics;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>examples/slimta.conf, the embedded default, with swaks as the client.</summary>
public sealed class EmbeddedDefaultTests
{
    [Fact]
    public async Task Swaks_EmbeddedDefault_MessageLandsInMaildirWithTraceHeaders()
    {
        var mail = TestPaths.NewTempDir("slimta-mail");
        var spool = TestPaths.NewTempDir("slimta-spool");
        var yaml = EmbeddedDefault(mail, spool);
        Assert.Contains("port: 0", yaml);
        await using var server = await ServerHarness.StartAsync(yaml);

        var output = await RunAsync("swaks", "--server", "127.0.0.1:" + server.PortOf(), "--from", "you@example.test",
            "--to", "postmaster@example.test", "--header", "Subject: hello slimta", "--body", "first message");
        Assert.Contains("250 2.6.0", output);

        var newDir = Path.Combine(mail, "postmaster", "new");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && (!Directory.Exists(newDir) || Directory.GetFiles(newDir).Length == 0))
        {
            await Task.Delay(50);
        }
        var file = Assert.Single(Directory.GetFiles(newDir));
        // The embedded default queues on disk: the message went through the spool, which is empty again.
        Assert.True(Directory.Exists(Path.Combine(spool, "envelope")));
        await WaitForAsync(() => Directory.GetFiles(Path.Combine(spool, "envelope"), "*.env").Length == 0);
        Assert.Empty(Directory.GetFiles(Path.Combine(spool, "meta"), "*.meta"));
        var text = await File.ReadAllTextAsync(file);
        Assert.StartsWith("Return-Path: <you@example.test>\r\nDelivered-To: postmaster@example.test\r\nReceived: from ", text);
        Assert.Contains("Subject: hello slimta\r\n", text);
        Assert.Contains("\r\nMessage-Id: <", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nfirst message\r\n", text);
    }

    [Fact]
    public async Task Swaks_EmbeddedDefaultOtherDomain_RefusedAsNotAnOpenRelay()
    {
        var yaml = EmbeddedDefault(TestPaths.NewTempDir("slimta-mail"), TestPaths.NewTempDir("slimta-spool"));
        await using var server = await ServerHarness.StartAsync(yaml);
        var output = await RunAsync("swaks", "--server", "127.0.0.1:" + server.PortOf(), "--from", "spammer@example.org",
            "--to", "victim@gmail.com", "--quit-after", "RCPT");
        Assert.Contains("550 5.7.1", output);
    }

    /// <summary>examples/slimta.conf with an ephemeral port, and mail and spool in temporary directories (never the repository's var/).</summary>
    private static string EmbeddedDefault(string mail, string spool)
    {
        var yaml = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "examples", "slimta.conf"));
        Assert.Contains("path: ../var/mail", yaml);
        Assert.Contains("type: disk", yaml);
        Assert.Contains("../var/spool/", yaml);
        return yaml
            .Replace("port: 2525", "port: 0", StringComparison.Ordinal)
            .Replace("path: ../var/mail", "path: " + mail, StringComparison.Ordinal)
            .Replace("../var/spool", spool, StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    private static async Task<string> RunAsync(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(timeout.Token);
        return await stdout + await stderr;
    }
}
