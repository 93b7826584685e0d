using System.Text;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;
using static Slimta.Plugins.Local.Tests.CommandRelaySupport;

namespace Slimta.Plugins.Local.Tests;

/// <summary>The maildrop and dovecot relays running the real maildrop and dovecot-lda.</summary>
public sealed class LocalDeliveryAgentTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("slimta-mda");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AttemptAsync_MaildropWithFilter_MessageInMaildir()
    {
        var box = Path.Combine(_dir, "box");
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(box, sub));
        }
        var filter = WriteFilter($"to \"{box}/\"\n");
        var relay = Create("maildrop", ("extra_args", new[] { filter }));

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        var file = Assert.Single(Directory.GetFiles(Path.Combine(box, "new")));
        var stored = await File.ReadAllTextAsync(file);
        Assert.Contains("Subject: hi", stored);
        Assert.Contains(".dot line", stored);
    }

    [Fact]
    public async Task AttemptAsync_MaildropCannotDeliver_TransientWithMaildropsWords()
    {
        // maildrop cannot lock a mailbox under a missing directory: it exits with EX_TEMPFAIL.
        var filter = WriteFilter($"to \"{_dir}/missing/box/\"\n");
        var relay = Create("maildrop", ("extra_args", new[] { filter }));

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Contains("maildrop", only.Reply.Text);
    }

    [Fact]
    public async Task AttemptAsync_MaildropFilterExitsWith77_Permanent()
    {
        var filter = WriteFilter("EXITCODE=77\nexit\n");
        var relay = Create("maildrop", ("extra_args", new[] { filter }));

        var result = await relay.AttemptAsync(Envelope("a@example.com"), 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.PermanentFailure, Assert.Single(result.Recipients).Outcome);
    }

    [Fact]
    public async Task AttemptAsync_DovecotLda_DeliveredToEachUsersInboxUnknownUserPermanent()
    {
        await using var dovecot = await DovecotLmtp.StartAsync("bob", "carol");
        var relay = Create("dovecot", ("extra_args", new[] { "-c", dovecot.ConfigPath, "-d", "{localpart}" }));

        var result = await relay.AttemptAsync(Envelope("bob@example.com", "nobody-here@example.com", "carol@example.com"), 0, CancellationToken.None);

        Assert.Equal(
            [DeliveryOutcome.Delivered, DeliveryOutcome.PermanentFailure, DeliveryOutcome.Delivered],
            result.Recipients.Select(r => r.Outcome));
        Assert.Equal("5.1.1", result.Recipients[1].Reply.EnhancedStatus);
        foreach (var user in new[] { "bob", "carol" })
        {
            var stored = Encoding.UTF8.GetString(Assert.Single(dovecot.Messages(user)));
            Assert.Contains("Subject: hi", stored);
            Assert.Contains("body \u00e9", stored);
        }
    }

    private string WriteFilter(string text)
    {
        var path = Path.Combine(_dir, $"filter-{Guid.NewGuid():N}");
        File.WriteAllText(path, text);
        // maildrop refuses a filter file that others may write.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }
}
