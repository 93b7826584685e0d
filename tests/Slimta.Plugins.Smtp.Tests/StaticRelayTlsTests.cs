using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Tests.Client;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;
using static Slimta.Smtp.Tests.Client.ScriptedSmtpServer;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>STARTTLS in the static relay: required, verified against a CA file, and opportunistic fallback.</summary>
public sealed class StaticRelayTlsTests
{
    private const string Greeting = "220 mx.test ESMTP\r\n";
    private const string Ehlo = "EHLO testhost.example\r\n";
    private const string Group = "MAIL FROM:<sender@x.test>\r\nRCPT TO:<rcpt@x.test>\r\nDATA\r\n";

    private static async Task DisposeAsync(IRelay relay) => await ((IAsyncDisposable)relay).DisposeAsync();

    [Fact]
    public async Task AttemptAsync_TlsRequiredAndCaFileTrusted_DeliversOverTls()
    {
        var caFile = TestCertificate.WriteCaPem();
        try
        {
            await using var server = Start(
                Send(Greeting), Expect(Ehlo), Send("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                Expect("STARTTLS\r\n"), Send("220 go ahead\r\n"), Tls(TestCertificate.Server),
                Expect(Ehlo), Send("250-mx.test\r\n250 PIPELINING\r\n"),
                Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("m\r\n.\r\n"), Send("250 2.0.0 ok\r\n"),
                Expect("QUIT\r\n"), Send("221 bye\r\n"));
            var relay = CreateStatic(server.Port, null, ("tls", new (string, object)[] { ("required", true), ("ca_file", caFile) }));

            var result = await relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None);
            await DisposeAsync(relay);

            Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
            await server.Completion;
        }
        finally
        {
            File.Delete(caFile);
        }
    }

    [Fact]
    public async Task AttemptAsync_TlsRequiredAndCertificateUntrusted_TransientFailure()
    {
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send("250-mx.test\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("220 go ahead\r\n"), TlsRejected(TestCertificate.Server));
        var relay = CreateStatic(server.Port, null, ("tls", new (string, object)[] { ("required", true) }));

        var result = await relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.7.0", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_OpportunisticHandshakeFails_ReconnectsAndDeliversInPlaintext()
    {
        await using var server = StartMany(
            [
                Send(Greeting), Expect(Ehlo), Send("250-mx.test\r\n250 STARTTLS\r\n"),
                Expect("STARTTLS\r\n"), Send("220 go ahead\r\n"), Close(),
            ],
            [
                // STARTTLS is offered again but must not be tried a second time.
                Send(Greeting), Expect(Ehlo), Send("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("m\r\n.\r\n"), Send("250 ok\r\n"),
                Expect("QUIT\r\n"), Send("221 bye\r\n"),
            ]);
        var relay = CreateStatic(server.Port);

        var result = await relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        await server.Completion;
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task AttemptAsync_CredentialsButNoAuthOffered_TransientWithoutMail()
    {
        // Sending without AUTH would get "relay access denied" (5xx) and bounce the mail: wait instead.
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send("250-mx.test\r\n250 PIPELINING\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        var relay = CreateStatic(server.Port, null, ("credentials", new (string, object)[] { ("username", "u"), ("password", "p") }));

        var result = await relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.7.0", only.Reply.EnhancedStatus);
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_OpportunisticStartTlsRefused_DeliversOnSameSession()
    {
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("454 4.7.0 TLS not available\r\n"),
            Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("m\r\n.\r\n"), Send("250 ok\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        var relay = CreateStatic(server.Port);

        var result = await relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_RequiredStartTlsRefused_TransientAndNoMail()
    {
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send("250-mx.test\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("454 4.7.0 TLS not available\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        var relay = CreateStatic(server.Port, null, ("tls", new (string, object)[] { ("required", true) }));

        var result = await relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.7.0", only.Reply.EnhancedStatus);
        await server.Completion;
    }
}
