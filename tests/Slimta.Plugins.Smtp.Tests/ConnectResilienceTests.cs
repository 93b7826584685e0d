using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>Connect retry and the per-destination circuit breaker (Polly) of the SMTP relays.</summary>
public sealed class ConnectResilienceTests
{
    private const string Message = "Subject: x\r\n\r\nbody\r\n";

    [Fact]
    public async Task AttemptAsync_ConnectRefusedThenServerUp_RetryDeliversInSameAttempt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        int port = FreePort.Next();
        var relay = CreateStatic(port, time, ("connect_retries", 2));

        var attempt = relay.AttemptAsync(Envelope(Message), 0, CancellationToken.None).AsTask();
        await Task.Delay(300);
        // The first connect was refused and the retry waits on the (fake) backoff delay.
        Assert.False(attempt.IsCompleted, "the attempt ended without waiting to retry the connection");
        await using var sink = await SmtpSink.StartOnPortAsync(port);
        for (int i = 0; i < 100 && !attempt.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }
        var result = await attempt;
        await ((IAsyncDisposable)relay).DisposeAsync();

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Single(await sink.WaitForMessagesAsync(1));
    }

    [Fact]
    public async Task AttemptAsync_RepeatedConnectFailures_CircuitOpensFailsFastThenRecovers()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        int port = FreePort.Next();
        var relay = CreateStatic(port, time, ("connect_retries", 0), ("circuit_breaker", new (string, object)[] { ("failures", 2), ("duration", 30) }));

        var first = await relay.AttemptAsync(Envelope(Message), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope(Message), 0, CancellationToken.None);
        await using var sink = await SmtpSink.StartOnPortAsync(port);
        var whileOpen = await relay.AttemptAsync(Envelope(Message), 0, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(31));
        var afterBreak = await relay.AttemptAsync(Envelope(Message), 0, CancellationToken.None);
        await ((IAsyncDisposable)relay).DisposeAsync();

        Assert.Contains("ConnectionRefused", first.Recipients[0].Reply.Text);
        Assert.Contains("ConnectionRefused", second.Recipients[0].Reply.Text);
        // The server is up, but the open circuit answers without connecting.
        var open = Assert.Single(whileOpen.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, open.Outcome);
        Assert.Equal("4.4.1", open.Reply.EnhancedStatus);
        Assert.Contains("circuit open", open.Reply.Text);
        Assert.True(afterBreak.AllDelivered, string.Join(", ", afterBreak.Recipients));
        Assert.Single(await sink.WaitForMessagesAsync(1));
    }

    [Fact]
    public async Task AttemptAsync_Permanent5xxGreeting_NotRetried()
    {
        await using var server = Slimta.Smtp.Tests.Client.ScriptedSmtpServer.StartMany(
            [Slimta.Smtp.Tests.Client.ScriptedSmtpServer.Send("554 5.7.1 go away\r\n"), Slimta.Smtp.Tests.Client.ScriptedSmtpServer.Close()],
            [Slimta.Smtp.Tests.Client.ScriptedSmtpServer.Send("220 second\r\n"), Slimta.Smtp.Tests.Client.ScriptedSmtpServer.Close()]);
        var relay = CreateStatic(server.Port, null, ("connect_retries", 3));

        var result = await relay.AttemptAsync(Envelope(Message), 0, CancellationToken.None);
        await ((IAsyncDisposable)relay).DisposeAsync();

        Assert.Equal(DeliveryOutcome.PermanentFailure, Assert.Single(result.Recipients).Outcome);
        Assert.Equal(1, server.Connections);
    }
}
