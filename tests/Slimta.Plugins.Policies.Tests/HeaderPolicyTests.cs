using System.Net;
using System.Text;
using MimeKit;
using Slimta.Abstractions.Envelopes;
using static Slimta.Plugins.Policies.Tests.PolicyTestKit;

namespace Slimta.Plugins.Policies.Tests;

public sealed class HeaderPolicyTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public async Task AddDateHeader_Missing_AppendsRfc5322DateFromClockAndKeepsEveryOtherByte()
    {
        var envelope = Envelope();
        var result = await Create("add_date_header").ApplyAsync(envelope, Ct);

        Assert.Null(result);
        byte[] expected = [.. Headers, .. Ascii("Date: Sat, 28 Nov 2026 22:04:05 +0100\r\n"), .. Body];
        Assert.Equal(expected, Bytes(envelope));
    }

    [Fact]
    public async Task AddDateHeader_ReceivedAtSet_UsesReceivedAtNotClock()
    {
        var envelope = Envelope();
        envelope.ReceivedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-8));
        await Create("add_date_header").ApplyAsync(envelope, Ct);

        byte[] expected = [.. Headers, .. Ascii("Date: Fri, 02 Jan 2026 12:04:05 +0100\r\n"), .. Body];
        Assert.Equal(expected, Bytes(envelope));
    }

    [Fact]
    public async Task AddDateHeader_NegativeOffsetZone_FormatsMinusSign()
    {
        var time = Time();
        time.SetLocalTimeZone(TimeZoneInfo.CreateCustomTimeZone("Test-0330", new TimeSpan(-3, -30, 0), "x", "x"));
        var envelope = Envelope();
        await Create("add_date_header", Context(time)).ApplyAsync(envelope, Ct);
        Assert.Equal("Sat, 28 Nov 2026 17:34:05 -0330", envelope.Message.GetHeader("Date"));
    }

    [Fact]
    public async Task AddDateHeader_AlreadyPresentAnyCase_LeavesMessageUnchanged()
    {
        byte[] original = [.. Ascii("date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"), .. Headers, .. Body];
        var message = new RawMessage(original);
        var envelope = new Envelope("s@example.org", ["b@example.com"], message);
        await Create("add_date_header").ApplyAsync(envelope, Ct);
        Assert.Same(message, envelope.Message);
        Assert.Equal(original, Bytes(envelope));
    }

    [Fact]
    public async Task AddDateHeader_Output_ParsesAsTheSameInstantWithMimeKit()
    {
        var envelope = Envelope();
        await Create("add_date_header").ApplyAsync(envelope, Ct);
        using var stream = new MemoryStream(Bytes(envelope));
        var parsed = await MimeMessage.LoadAsync(stream, Ct);
        Assert.Equal(Now, parsed.Date);
    }

    [Fact]
    public async Task AddMessageIdHeader_Missing_AppendsUniqueAtFqdnAndKeepsEveryOtherByte()
    {
        var envelope = Envelope();
        await new AddMessageIdHeaderPolicy("mx.example.com", () => "0123456789abcdef").ApplyAsync(envelope, Ct);

        byte[] expected = [.. Headers, .. Ascii("Message-Id: <0123456789abcdef@mx.example.com>\r\n"), .. Body];
        Assert.Equal(expected, Bytes(envelope));
    }

    [Theory]
    [InlineData("add_message_id_header")]
    [InlineData("add_messageid_header")]
    public async Task AddMessageIdHeader_BothSpellings_AddRandomIdWithContextFqdn(string type)
    {
        var first = Envelope();
        var second = Envelope();
        var policy = Create(type);
        await policy.ApplyAsync(first, Ct);
        await policy.ApplyAsync(second, Ct);

        var id = first.Message.GetHeader("Message-Id");
        Assert.NotNull(id);
        Assert.Matches("^<[0-9a-f]{32}@mx\\.example\\.com>$", id);
        Assert.NotEqual(id, second.Message.GetHeader("Message-Id"));
        byte[] expected = [.. Headers, .. Ascii($"Message-Id: {id}\r\n"), .. Body];
        Assert.Equal(expected, Bytes(first));
    }

    [Fact]
    public async Task AddMessageIdHeader_AlreadyPresent_LeavesMessageUnchanged()
    {
        byte[] original = [.. Headers[..^2], .. Ascii("\r\nMessage-ID: <x@y>\r\n"), .. Body];
        var message = new RawMessage(original);
        var envelope = new Envelope("s@example.org", ["b@example.com"], message);
        await Create("add_message_id_header").ApplyAsync(envelope, Ct);
        Assert.Same(message, envelope.Message);
    }

    private static Envelope ReceivedEnvelope(params string[] recipients)
    {
        var envelope = Envelope(recipients);
        envelope.Id = "0123abcd";
        envelope.Client = new ClientInfo(IPAddress.Parse("192.0.2.1"), 40000, "client.example.org", "ehlo.example.org", "ESMTPS", null);
        return envelope;
    }

    private static string Version => AddReceivedHeaderPolicy.ProductVersion;

    [Fact]
    public async Task AddReceivedHeader_OneRecipient_PrependsFoldedTraceWithFor()
    {
        var envelope = ReceivedEnvelope("bob@example.com");
        await Create("add_received_header").ApplyAsync(envelope, Ct);

        byte[] expected =
        [
            .. Ascii("Received: from ehlo.example.org (client.example.org [192.0.2.1])\r\n"
                + $"\tby mx.example.com (Slimta {Version}) with ESMTPS id 0123abcd\r\n"
                + "\tfor <bob@example.com>; Sat, 28 Nov 2026 22:04:05 +0100\r\n"),
            .. Original,
        ];
        Assert.Equal(expected, Bytes(envelope));
        Assert.Matches(@"^\d+\.\d+\.\d+", Version);
    }

    [Fact]
    public async Task AddReceivedHeader_TwoRecipients_NoForClause()
    {
        var envelope = ReceivedEnvelope("bob@example.com", "carol@example.com");
        await Create("add_received_header").ApplyAsync(envelope, Ct);

        byte[] expected =
        [
            .. Ascii("Received: from ehlo.example.org (client.example.org [192.0.2.1])\r\n"
                + $"\tby mx.example.com (Slimta {Version}) with ESMTPS id 0123abcd;\r\n"
                + "\tSat, 28 Nov 2026 22:04:05 +0100\r\n"),
            .. Original,
        ];
        Assert.Equal(expected, Bytes(envelope));
    }

    [Fact]
    public async Task AddReceivedHeader_IPv6WithoutReverseDns_UsesIPv6AddressLiteral()
    {
        var envelope = ReceivedEnvelope("bob@example.com");
        envelope.Client = new ClientInfo(IPAddress.Parse("2001:db8::1"), 1, null, "client6", "ESMTP", null);
        envelope.ReceivedAt = new DateTimeOffset(2026, 11, 28, 21, 0, 0, TimeSpan.Zero);
        await Create("add_received_header").ApplyAsync(envelope, Ct);
        Assert.Equal(
            $"from client6 ([IPv6:2001:db8::1])\tby mx.example.com (Slimta {Version}) with ESMTP id 0123abcd\tfor <bob@example.com>; Sat, 28 Nov 2026 22:00:00 +0100",
            envelope.Message.GetHeader("Received"));
    }

    [Fact]
    public async Task AddReceivedHeader_HostileEhlo_CannotAddClausesOrLines()
    {
        var envelope = ReceivedEnvelope("bob@example.com");
        envelope.Client = envelope.Client with { EhloName = "evil (by forged); for <x>\r\nX-Injected: 1" };
        await Create("add_received_header").ApplyAsync(envelope, Ct);
        var received = envelope.Message.GetHeader("Received");
        Assert.NotNull(received);
        Assert.StartsWith("from evilbyforgedfor<x>X-Injected:1 (client.example.org [192.0.2.1])\tby", received, StringComparison.Ordinal);
        Assert.False(envelope.Message.HasHeader("X-Injected"));
        Assert.Single(received, ';');
    }

    [Fact]
    public async Task AddReceivedHeader_AlreadyHasReceived_StillPrependsAnother()
    {
        var envelope = ReceivedEnvelope("bob@example.com");
        var policy = Create("add_received_header");
        await policy.ApplyAsync(envelope, Ct);
        await policy.ApplyAsync(envelope, Ct);
        Assert.Equal(2, envelope.Message.GetHeaders("Received").Count);
        Assert.True(envelope.Message.Bytes.Span.EndsWith(Original));
    }

    [Fact]
    public async Task AddReceivedHeader_Output_MimeKitSeesOneReceivedFieldWithParsableDate()
    {
        var envelope = ReceivedEnvelope("bob@example.com");
        await Create("add_received_header").ApplyAsync(envelope, Ct);
        using var stream = new MemoryStream(Bytes(envelope));
        var parsed = await MimeMessage.LoadAsync(stream, Ct);
        var received = Assert.Single(parsed.Headers, h => h.Id == HeaderId.Received);
        var date = received.Value[(received.Value.LastIndexOf(';') + 1)..].Trim();
        Assert.True(MimeKit.Utils.DateUtils.TryParse(date, out var when));
        Assert.Equal(Now, when);
        Assert.Equal("Grüße aus Köln", parsed.Subject);
    }

    [Theory]
    [InlineData("add_date_header", "Date")]
    [InlineData("add_message_id_header", "Message-Id")]
    [InlineData("add_received_header", "Received")]
    public async Task HeaderPolicies_NonAsciiHeadersAndEightBitBody_OnlyTheNewFieldDiffers(string type, string added)
    {
        var envelope = ReceivedEnvelope("bob@example.com");
        await Create(type).ApplyAsync(envelope, Ct);

        // Remove exactly the added field again: what is left must be the original bytes.
        var withoutAdded = envelope.Message.RemoveHeader(added);
        Assert.Equal(Original, withoutAdded.Bytes.ToArray());
        Assert.Equal(Original.Length + FieldLength(envelope.Message, added), envelope.Message.Length);
        Assert.True(envelope.Message.Bytes.Span.EndsWith(Body));
    }

    private static int FieldLength(RawMessage message, string name)
    {
        // Length of the added field as written: the message minus the same message without it.
        return message.Length - message.RemoveHeader(name).Length;
    }
}
