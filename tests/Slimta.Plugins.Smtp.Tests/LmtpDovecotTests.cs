using System.Text;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>The lmtp relay against Dovecot's real LMTP server.</summary>
public sealed class LmtpDovecotTests
{
    private static IRelay CreateLmtp(int port) =>
        new SmtpRelayFactory(lmtp: true).Create(Options(("host", "127.0.0.1"), ("port", port)), Context());

    [Fact]
    public async Task AttemptAsync_DovecotLmtp_OneReplyPerRecipientUnknownUserPermanent()
    {
        await using var dovecot = await DovecotLmtp.StartAsync("bob", "carol");
        var relay = CreateLmtp(dovecot.Port);
        var message = "From: a@x.test\r\nSubject: lmtp\r\n\r\n.leading dot\r\ncaf\u00e9\r\n";

        var result = await relay.AttemptAsync(Envelope(message, "bob@x.test", "zed@x.test", "carol@x.test"), 0, CancellationToken.None);
        await ((IAsyncDisposable)relay).DisposeAsync();

        Assert.Equal(
            [DeliveryOutcome.Delivered, DeliveryOutcome.PermanentFailure, DeliveryOutcome.Delivered],
            result.Recipients.Select(r => r.Outcome));
        Assert.Equal("5.1.1", result.Recipients[1].Reply.EnhancedStatus);
        // Dovecot's own per-recipient replies name the recipient (RFC 2033 §4.2).
        Assert.Contains("bob@x.test", result.Recipients[0].Reply.Text);
        Assert.Contains("carol@x.test", result.Recipients[2].Reply.Text);
        foreach (var user in new[] { "bob", "carol" })
        {
            var stored = Assert.Single(dovecot.Messages(user));
            // Dovecot prepends Return-Path and Delivered-To; the message follows byte for byte
            // (stored with LF line ends).
            Assert.EndsWith(message.Replace("\r\n", "\n"), Encoding.UTF8.GetString(stored).Replace("\r\n", "\n"));
        }
        Assert.Empty(dovecot.Messages("zed"));
    }

    [Fact]
    public async Task AttemptAsync_TwoMessagesToDovecot_OneSessionReused()
    {
        await using var dovecot = await DovecotLmtp.StartAsync("bob");
        var relay = (SmtpRelay)CreateLmtp(dovecot.Port);

        var first = await relay.AttemptAsync(Envelope("Subject: 1\r\n\r\none\r\n", "bob@x.test"), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope("Subject: 2\r\n\r\ntwo\r\n", "bob@x.test"), 0, CancellationToken.None);
        int opened = relay.ConnectionsOpened;
        await relay.DisposeAsync();

        Assert.True(first.AllDelivered && second.AllDelivered, dovecot.Log);
        Assert.Equal(1, opened);
        Assert.Equal(2, dovecot.Messages("bob").Count);
    }
}
