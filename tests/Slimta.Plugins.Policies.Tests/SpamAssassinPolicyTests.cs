using System.Net;
using System.Net.Sockets;
using System.Text;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Testing;
using static Slimta.Plugins.Policies.Tests.PolicyTestKit;

namespace Slimta.Plugins.Policies.Tests;

/// <summary>The spamassassin policy against SpamAssassin's real spamd, and against broken spamds.</summary>
public sealed class SpamAssassinPolicyTests : IClassFixture<SpamAssassinPolicyTests.SpamdFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly SpamdFixture _spamd;

    public SpamAssassinPolicyTests(SpamdFixture spamd) => _spamd = spamd;

    private static ConfigScalar Scalar(string key, string value) => new(PolicyPath + "." + key, value);

    private static Slimta.Abstractions.Queueing.IQueuePolicy Policy(int port, TimeProvider? time = null, string timeout = "30") =>
        Create("spamassassin", Context(time), ("host", Scalar("host", "127.0.0.1")), ("port", Scalar("port", port.ToString(System.Globalization.CultureInfo.InvariantCulture))), ("timeout", Scalar("timeout", timeout)));

    [Fact]
    public async Task Apply_GtubeMessageWithRealSpamd_PrependsYesAndGtubeAndKeepsEveryOtherByte()
    {
        byte[] original = [.. Headers, .. Encoding.ASCII.GetBytes("\r\n" + Spamd.Gtube + "\r\n")];
        var envelope = new Envelope("sender@example.org", ["bob@example.com"], new RawMessage(original));

        var result = await Policy(_spamd.Server.Port).ApplyAsync(envelope, Ct);

        Assert.Null(result);
        var status = envelope.Message.GetHeader("X-Spam-Status")!;
        Assert.Matches(@"^Yes, score=\d+\.\d required=5\.0$", status);
        Assert.True(double.Parse(status.Split('=')[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) >= 900, status);
        var symbols = envelope.Message.GetHeader("X-Spam-Symbols")!.Replace("\t", string.Empty).Split(',');
        Assert.Contains("GTUBE", symbols);
        // The two new fields come first; everything after them is the original, byte for byte.
        var bytes = Bytes(envelope);
        Assert.Equal(original, bytes[^original.Length..]);
        var added = Encoding.ASCII.GetString(bytes[..^original.Length]);
        Assert.Matches("^X-Spam-Status: [^\r\n]+\r\nX-Spam-Symbols: [^\r\n]+(\r\n\t[^\r\n]+)*\r\n$", added);
    }

    [Fact]
    public async Task Apply_NormalMessageWithRealSpamd_PrependsNoAndKeepsEveryOtherByte()
    {
        var original = Encoding.ASCII.GetBytes(
            "Received: from mail.example.org (mail.example.org [192.0.2.1])\r\n\tby mx.example.com with ESMTP; Sat, 28 Nov 2026 21:04:05 +0000\r\n"
            + "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\nSubject: lunch on Friday\r\n"
            + "Date: Sat, 28 Nov 2026 21:04:05 +0000\r\nMessage-Id: <lunch-1@example.org>\r\n\r\n"
            + "Hi Bob,\r\n\r\nare we still on for lunch on Friday at noon?\r\n\r\nAlice\r\n");
        var envelope = new Envelope("alice@example.org", ["bob@example.com"], new RawMessage(original));

        await Policy(_spamd.Server.Port).ApplyAsync(envelope, Ct);

        Assert.StartsWith("No, score=", envelope.Message.GetHeader("X-Spam-Status"), StringComparison.Ordinal);
        Assert.DoesNotContain("GTUBE", envelope.Message.GetHeader("X-Spam-Symbols")!, StringComparison.Ordinal);
        Assert.Equal(original, Bytes(envelope)[^original.Length..]);
    }

    [Fact]
    public async Task Apply_ForgedSpamHeaders_RemovedBeforeOursAreAdded()
    {
        byte[] rest = [.. Headers, .. Encoding.ASCII.GetBytes("\r\n" + Spamd.Gtube + "\r\n")];
        int fromEnd = Array.IndexOf(rest, (byte)'\n') + 1;
        byte[] original = [.. Encoding.ASCII.GetBytes("X-Spam-Status: No, score=-100.0 required=5.0\r\n"), .. rest[..fromEnd], .. Encoding.ASCII.GetBytes("x-spam-symbols: NONE\r\n"), .. rest[fromEnd..]];
        var envelope = new Envelope("sender@example.org", ["bob@example.com"], new RawMessage(original));

        await Policy(_spamd.Server.Port).ApplyAsync(envelope, Ct);

        Assert.Single(envelope.Message.GetHeaders("X-Spam-Status"));
        Assert.StartsWith("Yes, ", envelope.Message.GetHeader("X-Spam-Status"), StringComparison.Ordinal);
        Assert.Single(envelope.Message.GetHeaders("X-Spam-Symbols"));
        Assert.Equal(rest, Bytes(envelope)[^rest.Length..]);
    }

    [Fact]
    public async Task Apply_SpamdNotListening_ThrowsSoTheQueueRefusesWith451()
    {
        int port = FreePort.Next();
        var envelope = Envelope();
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await Policy(port).ApplyAsync(envelope, Ct));
        Assert.IsNotAssignableFrom<OperationCanceledException>(error);
        Assert.Equal(Original, Bytes(envelope));
    }

    [Fact]
    public async Task Apply_SpamdSilentPastTimeout_ThrowsTimeoutException()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var time = Time();
        var envelope = Envelope();
        var apply = Policy(((IPEndPoint)listener.LocalEndpoint).Port, time, timeout: "5").ApplyAsync(envelope, Ct).AsTask();
        using var accepted = await listener.AcceptTcpClientAsync(Ct);
        Assert.False(apply.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => apply);
        Assert.Contains("did not answer within 5 s", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HTTP/1.0 200 OK\r\n\r\n", "not a SPAMD reply")]
    [InlineData("SPAMD/1.0 76 Bad header line: (EOF)\r\n\r\n", "refused the scan")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\n\r\nGTUBE", "no Spam header")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1.0 / 5.0\r\n\r\n", "neither True nor False")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: True\r\n\r\n", "without score / required")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n", "no complete reply")]
    [InlineData("", "no complete reply")]
    public async Task Apply_SpamdAnswersGarbage_ThrowsInvalidDataException(string reply, string problem)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var envelope = Envelope();
        var apply = Policy(((IPEndPoint)listener.LocalEndpoint).Port).ApplyAsync(envelope, Ct).AsTask();
        using (var client = await listener.AcceptTcpClientAsync(Ct))
        {
            var stream = client.GetStream();
            // Read the whole request (spamd would), then answer and close.
            var buffer = new byte[65536];
            while (await stream.ReadAsync(buffer, Ct) > 0)
            {
            }
            await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), Ct);
        }
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => apply);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Equal(Original, Bytes(envelope));
    }

    [Fact]
    public async Task Apply_RequestOnTheWire_IsSymbolsSpamc15WithContentLengthAndTheExactMessage()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var envelope = Envelope();
        var apply = Policy(((IPEndPoint)listener.LocalEndpoint).Port).ApplyAsync(envelope, Ct).AsTask();
        var request = new MemoryStream();
        using (var client = await listener.AcceptTcpClientAsync(Ct))
        {
            await client.GetStream().CopyToAsync(request, Ct);
            await client.GetStream().WriteAsync("SPAMD/1.1 0 EX_OK\r\nContent-length: 11\r\nSpam: False ; 1.2 / 5.0\r\n\r\nRULE_A,RULE_B"u8.ToArray(), Ct);
        }
        await apply;
        byte[] expectedRequest = [.. Encoding.ASCII.GetBytes($"SYMBOLS SPAMC/1.5\r\nContent-length: {Original.Length}\r\n\r\n"), .. Original];
        Assert.Equal(expectedRequest, request.ToArray());
        byte[] expected = [.. "X-Spam-Status: No, score=1.2 required=5.0\r\nX-Spam-Symbols: RULE_A,RULE_B\r\n"u8.ToArray(), .. Original];
        Assert.Equal(expected, Bytes(envelope));
    }

    [Fact]
    public void Symbols_ManyLongRuleNames_FoldedAfterCommasWithinSeventySixColumns()
    {
        var symbols = Enumerable.Range(1, 12).Select(i => "RULE_NUMBER_" + i).ToList();
        var value = SpamAssassinPolicy.Symbols(symbols);
        var lines = ("X-Spam-Symbols: " + value).Split("\r\n");
        Assert.True(lines.Length > 1);
        Assert.All(lines, l => Assert.True(l.Length <= 76, l));
        Assert.All(lines.Skip(1), l => Assert.StartsWith("\t", l, StringComparison.Ordinal));
        Assert.Equal(string.Join(",", symbols), value.Replace("\r\n\t", string.Empty));
    }

    [Theory]
    [InlineData("port", "0")]
    [InlineData("timeout", "0")]
    [InlineData("hostname", "x")]
    public void Validate_BadOption_ConfigErrorAtKeyPath(string key, string value)
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies["spamassassin"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("spamassassin", (key, Scalar(key, value)))));
        Assert.Equal(PolicyPath + "." + key, error.KeyPath);
    }

    /// <summary>One spamd for the class: loading its rules takes seconds.</summary>
    public sealed class SpamdFixture : IAsyncLifetime
    {
        private ExternalServer? _server;

        public ExternalServer Server => _server ?? throw new InvalidOperationException("spamd not started");

        public async Task InitializeAsync() => _server = await Spamd.StartAsync();

        public async Task DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
