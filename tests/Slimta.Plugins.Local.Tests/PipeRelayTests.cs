using System.Text;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;
using static Slimta.Plugins.Local.Tests.CommandRelaySupport;

namespace Slimta.Plugins.Local.Tests;

/// <summary>The pipe relay running real programs (/bin/sh, cat).</summary>
public sealed class PipeRelayTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("slimta-pipe");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AttemptAsync_Cat_MessageBytesOnStdinAndMacrosExpanded()
    {
        var output = Path.Combine(_dir, "out");
        var relay = Create("pipe", ("args", new[]
        {
            "/bin/sh", "-c", "cat > \"$0\"; printf '%s|%s|%s|%s|%s' \"$1\" \"$2\" \"$3\" \"$4\" \"$5\" > \"$0.args\"",
            output, "{sender}", "{recipient}", "{id}", "{message_id}", "-f{sender}",
        }));

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.Delivered, only.Outcome);
        Assert.Equal(250, only.Reply.Code);
        Assert.Equal(Encoding.UTF8.GetBytes(Message), await File.ReadAllBytesAsync(output));
        Assert.Equal("sender@example.org|a@example.com|queue-id-1|m1@example.org|-fsender@example.org", await File.ReadAllTextAsync(output + ".args"));
    }

    [Fact]
    public async Task AttemptAsync_Exit75_TransientWithTheProgramsWords()
    {
        var relay = Create("pipe", ("args", new[] { "/bin/sh", "-c", "cat >/dev/null; echo 'mailbox locked' >&2; exit 75" }));

        var result = await relay.AttemptAsync(Envelope("a@example.com", "b@example.com"), 0, CancellationToken.None);

        Assert.Equal(2, result.Recipients.Count);
        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.TransientFailure, r.Outcome));
        Assert.Equal("450 4.3.0 mailbox locked", result.Recipients[0].Reply.ToString());
    }

    [Fact]
    public async Task AttemptAsync_Exit1_PermanentWithTheProgramsWords()
    {
        var relay = Create("pipe", ("args", new[] { "/bin/sh", "-c", "echo 'quota exceeded'; exit 1" }));

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, only.Outcome);
        Assert.Equal("550 5.3.0 quota exceeded", only.Reply.ToString());
    }

    [Fact]
    public async Task AttemptAsync_Exit67_PermanentNoSuchUser()
    {
        var relay = Create("pipe", ("args", new[] { "/bin/sh", "-c", "exit 67" }));

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, only.Outcome);
        Assert.Equal("5.1.1", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_ProgramHangs_KilledWithItsChildrenAndTransient()
    {
        var pidFile = Path.Combine(_dir, "child.pid");
        var relay = Create("pipe", ("timeout", "0.5"), ("args", new[] { "/bin/sh", "-c", "sleep 60 & echo $! > \"$0\"; wait", pidFile }));
        var started = DateTime.UtcNow;

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.2", only.Reply.EnhancedStatus);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
        var childPid = (await File.ReadAllTextAsync(pidFile)).Trim();
        Assert.False(IsRunning(childPid), $"the child 'sleep' (pid {childPid}) survived the timeout");
    }

    [Fact]
    public async Task AttemptAsync_ExitsWhileBackgroundChildHoldsOutput_DeliveredWithoutWaitingForTimeout()
    {
        var pidFile = Path.Combine(_dir, "bg.pid");
        var relay = Create("pipe", ("timeout", "30"), ("args", new[] { "/bin/sh", "-c", "cat >/dev/null; sleep 30 & echo $! > \"$0\"; echo queued", pidFile }));
        var started = DateTime.UtcNow;

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);
        var elapsed = DateTime.UtcNow - started;
        if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), out var pid))
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
        }

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.Delivered, only.Outcome);
        Assert.Equal("queued", only.Reply.Text);
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"took {elapsed}");
    }

    [Fact]
    public async Task AttemptAsync_PerRecipient_OneRunEachWithItsOwnOutcome()
    {
        var prefix = Path.Combine(_dir, "box");
        var relay = Create("pipe", ("per_recipient", true), ("args", new[]
        {
            "/bin/sh", "-c", "if [ \"$1\" = full ]; then echo \"$1 is over quota\" >&2; exit 75; fi; cat > \"$0.$1.$2\"", prefix, "{localpart}", "{domain}",
        }));

        var result = await relay.AttemptAsync(Envelope("ann@Example.COM", "full@example.com", "bob@example.net"), 0, CancellationToken.None);

        Assert.Equal(
            [DeliveryOutcome.Delivered, DeliveryOutcome.TransientFailure, DeliveryOutcome.Delivered],
            result.Recipients.Select(r => r.Outcome));
        Assert.Equal("full is over quota", result.Recipients[1].Reply.Text);
        Assert.Equal(Encoding.UTF8.GetBytes(Message), await File.ReadAllBytesAsync(prefix + ".ann.example.com"));
        Assert.True(File.Exists(prefix + ".bob.example.net"));
        Assert.False(File.Exists(prefix + ".full.example.com"));
    }

    [Fact]
    public async Task AttemptAsync_OncePerEnvelope_RecipientArgumentBecomesOneArgumentEach()
    {
        var output = Path.Combine(_dir, "argv");
        var relay = Create("pipe", ("args", new[] { "/bin/sh", "-c", "cat >/dev/null; printf '%s\\n' \"$@\" > \"$0\"", output, "--", "{recipient}" }));

        var result = await relay.AttemptAsync(Envelope("a@example.com", "b@example.com"), 0, CancellationToken.None);

        Assert.True(result.AllDelivered);
        Assert.Equal("--\na@example.com\nb@example.com\n", await File.ReadAllTextAsync(output));
    }

    [Fact]
    public async Task AttemptAsync_ProgramMissing_TransientNotBounced()
    {
        var relay = Create("pipe", ("args", new[] { Path.Combine(_dir, "no-such-program") }));

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.3.0", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_RecipientWithLineBreak_PermanentAndProgramNotRun()
    {
        var marker = Path.Combine(_dir, "ran");
        var relay = Create("pipe", ("per_recipient", true), ("args", new[] { "/bin/sh", "-c", "touch \"$0\"", marker, "{recipient}" }));

        var result = await relay.AttemptAsync(Envelope("evil\n@example.com"), 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.PermanentFailure, Assert.Single(result.Recipients).Outcome);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Validate_UnknownMacro_ErrorNamesArgs()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["pipe"];

        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("pipe", ("args", new[] { "/bin/cat", "{nope}" }))));

        Assert.Contains("relay.local.args", error.Message);
        Assert.Contains("{nope}", error.Message);
    }

    [Fact]
    public void Validate_LocalpartWithoutPerRecipient_Error()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["pipe"];

        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("pipe", ("args", new[] { "/bin/cat", "{localpart}" }))));

        Assert.Contains("per_recipient", error.Message);
    }

    [Fact]
    public void Validate_ArgsMissing_Error()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["pipe"];

        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("pipe")));

        Assert.Contains("args", error.Message);
    }

    private static bool IsRunning(string pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return false;
        }
        try
        {
            // A killed child not yet reaped by its new parent is a zombie (state Z): not running.
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
