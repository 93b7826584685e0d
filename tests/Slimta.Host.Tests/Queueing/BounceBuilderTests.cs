using System.Text;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

public sealed class BounceBuilderTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 28, 13, 0, 0, TimeSpan.Zero));

    /// <summary>A non-ASCII Subject and an 8-bit body (Latin-1 bytes, not UTF-8).</summary>
    private static readonly byte[] Original =
        [.. Encoding.UTF8.GetBytes("From: José <jose@client.test>\r\nSubject: Grüße\r\nMessage-Id: <orig-1@client.test>\r\n\r\n"), 0xE9, 0xFC, .. "\r\nend\r\n"u8.ToArray()];

    private static Envelope Failed() => new("jose@client.test", ["bob@remote.test"], new RawMessage(Original))
    {
        ReceivedAt = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero),
    };

    private static readonly FailedRecipient Bob = new("bob@remote.test", new Reply(550, "5.1.1", "no such user"), "mx.remote.test:25");

    private static MimeMessage Parse(Envelope bounce) => MimeMessage.Load(new MemoryStream(bounce.Message.Bytes.ToArray()));

    private static BounceSettings Settings(params (string Key, string Value)[] entries) =>
        BounceSettings.Read(new ComponentOptions(new ConfigMap("queue.q.bounce", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("queue.q.bounce." + e.Key, e.Value))))));

    [Fact]
    public void Build_ConfiguredTextWithTemplates_HumanPartExpandedWithCrlf()
    {
        var builder = new BounceBuilder("mta.test.example", "mta", Settings(("text", "Hello {sender},\nmail from {hostname} ({fqdn}), id {queue_id}:\n{recipients}-- postmaster")), Time);
        var bounce = builder.Build(Failed(), "q1", [Bob])!;

        var text = Encoding.UTF8.GetString(bounce.Message.Bytes.Span);
        Assert.Contains("\r\n\r\nHello jose@client.test,\r\nmail from mta (mta.test.example), id q1:\r\n<bob@remote.test>: 550 5.1.1 no such user\r\n-- postmaster\r\n", text, StringComparison.Ordinal);
        Assert.Equal("Hello jose@client.test,\nmail from mta (mta.test.example), id q1:\n<bob@remote.test>: 550 5.1.1 no such user\n-- postmaster\n", Parse(bounce).TextBody!.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Build_TextWithoutRecipientsPlaceholder_RecipientsAppended()
    {
        var builder = new BounceBuilder("mta.test.example", "mta", Settings(("text", "Sorry.")), Time);
        Assert.Equal("Sorry.\n\n<bob@remote.test>: 550 5.1.1 no such user\n", Parse(builder.Build(Failed(), "q1", [Bob])!).TextBody!.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Build_DefaultHeadersOnly_AttachesOriginalHeadersByteForByte()
    {
        var bounce = new BounceBuilder("mta.test.example", Time).Build(Failed(), "q1", [Bob])!;
        var message = Parse(bounce);

        var report = Assert.IsType<MultipartReport>(message.Body);
        var headers = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("Grüße", headers.Message!.Subject);
        Assert.Equal("orig-1@client.test", headers.Message.MessageId);
        byte[] attached = [.. "Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"u8.ToArray(), .. new RawMessage(Original).Headers.ToArray(), .. "\r\n--"u8.ToArray()];
        Assert.True(bounce.Message.Bytes.Span.IndexOf(attached) > 0, "the original headers are copied unchanged");
        var status = Assert.IsType<MessageDeliveryStatus>(report[1]);
        Assert.Equal("dns; mta.test.example", status.StatusGroups[0]["Reporting-MTA"]);
        Assert.Equal("Sat, 28 Nov 2026 12:00:00 +0000", status.StatusGroups[0]["Arrival-Date"]);
        Assert.Equal("rfc822; bob@remote.test", status.StatusGroups[1]["Final-Recipient"]);
        Assert.Equal("failed", status.StatusGroups[1]["Action"]);
        Assert.Equal("5.1.1", status.StatusGroups[1]["Status"]);
        Assert.Equal("dns; mx.remote.test", status.StatusGroups[1]["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 no such user", status.StatusGroups[1]["Diagnostic-Code"]);
        Assert.Equal("", bounce.Sender);
        Assert.Equal(["jose@client.test"], bounce.Recipients);
    }

    [Fact]
    public void Build_IncludeFull_AttachesTheWholeOriginalAsMessageRfc822ByteForByte()
    {
        var builder = new BounceBuilder("mta.test.example", "mta", Settings(("include_message", "full")), Time);
        var bounce = builder.Build(Failed(), "q1", [Bob])!;

        var part = Assert.IsType<MessagePart>(Assert.IsType<MultipartReport>(Parse(bounce).Body)[2]);
        Assert.Equal("orig-1@client.test", part.Message!.MessageId);
        Assert.Equal("Grüße", part.Message.Subject);
        var raw = bounce.Message.Bytes.ToArray();
        Assert.True(raw.AsSpan().IndexOf(Original) > 0, "the original is copied unchanged");
        Assert.Contains("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", Encoding.UTF8.GetString(raw), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NullSender_NoBounce()
    {
        var original = Failed();
        original.Sender = string.Empty;
        Assert.Null(new BounceBuilder("mta.test.example", Time).Build(original, "q1", [Bob]));
        Assert.Null(new BounceBuilder("mta.test.example", Time).BuildDelayNotice(original, "q1", [Bob], null));
    }

    [Theory]
    [InlineData("text", "Dear {user}", "queue.q.bounce.text")]
    [InlineData("delay_text", "{nope}", "queue.q.bounce.delay_text")]
    [InlineData("include_message", "body", "queue.q.bounce.include_message")]
    [InlineData("delay_notice", "0", "queue.q.bounce.delay_notice")]
    [InlineData("delay_notice", "soon", "queue.q.bounce.delay_notice")]
    [InlineData("subject", "x", "queue.q.bounce.subject")]
    public void SettingsRead_BadValue_ConfigErrorNamesKeyPath(string key, string value, string path)
    {
        var error = Assert.Throws<ConfigException>(() => Settings((key, value)));
        Assert.Equal(path, error.KeyPath);
    }

    [Fact]
    public void SettingsRead_Empty_Defaults()
    {
        Assert.Equal(BounceSettings.Default, Settings());
        Assert.Equal(TimeSpan.FromHours(4), Settings(("delay_notice", "14400")).DelayNotice);
    }
}
