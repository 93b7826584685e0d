using Microsoft.Extensions.Time.Testing;
using Slimta.Smtp.Client;

namespace Slimta.Smtp.Tests.Client;

/// <summary>Stage timeouts on a fake clock: writes that wait, and a timer that fires as a wait ends.</summary>
public sealed class SmtpClientTimeoutTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The one message these tests send: a@x.test to b@y.test, "hello".</summary>
    private static Task<SmtpTransactionResult> SendHelloAsync(SmtpClient client, bool resetFirst = false) =>
        client.SendMessageAsync("a@x.test", ["b@y.test"], "hello\r\n"u8.ToArray(), false, resetFirst, CancellationToken.None);

    private static async Task<(SmtpClient Client, ScriptedServerStream Stream)> OpenAsync(FakeTimeProvider time)
    {
        var stream = new ScriptedServerStream("220 mx.test ESMTP\r\n")
        {
            Respond = s => s.StartsWith("EHLO", StringComparison.Ordinal) ? "250-mx.test\r\n250 PIPELINING\r\n"
                : s.EndsWith("DATA\r\n", StringComparison.Ordinal) ? "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"
                : s.EndsWith(".\r\n", StringComparison.Ordinal) ? "250 2.0.0 queued\r\n"
                : null,
        };
        var client = new SmtpClient(stream, new SmtpClientOptions { EhloName = "client.test", TimeProvider = time, CommandTimeout = CommandTimeout });
        await client.ReadGreetingAsync(CancellationToken.None);
        await client.EhloAsync(CancellationToken.None);
        return (client, stream);
    }

    [Fact]
    public async Task SendMessageAsync_TimerFiresAsWriteCompletes_NextStepsStillRun()
    {
        var time = new FakeTimeProvider();
        var (client, stream) = await OpenAsync(time);
        await using var _ = client;
        stream.Hold = s => s.EndsWith("DATA\r\n", StringComparison.Ordinal);

        var sending = SendHelloAsync(client);
        await stream.Held.Task;
        // The write's timer fires, but the write completes anyway (the bytes were already on
        // their way): the replies that follow must be read under a fresh timeout, not fail.
        time.Advance(CommandTimeout + TimeSpan.FromSeconds(1));
        stream.Release();
        var result = await sending;

        Assert.Equal(250, result.RecipientReplies[0].Code);
        Assert.False(client.IsBroken);
    }

    [Fact]
    public async Task SendMessageAsync_WriteWaitsPastTimeout_TimesOutAndBreaksSession()
    {
        var time = new FakeTimeProvider();
        var (client, stream) = await OpenAsync(time);
        await using var _ = client;
        stream.Hold = s => s.EndsWith("DATA\r\n", StringComparison.Ordinal);
        stream.HonorCancellation = true;

        var sending = SendHelloAsync(client);
        var token = await stream.Held.Task;
        Assert.False(token.IsCancellationRequested);
        time.Advance(CommandTimeout - TimeSpan.FromSeconds(1));
        Assert.False(token.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(2));

        // The held write sees its token canceled and fails, as a socket's would.
        Assert.True(token.IsCancellationRequested);
        var e = await Assert.ThrowsAsync<SmtpTimeoutException>(() => sending);

        Assert.Equal(SmtpStage.Command, e.Stage);
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task SendMessageAsync_ReplyNeverComes_TimesOutAfterCommandTimeout()
    {
        var time = new FakeTimeProvider();
        var (client, stream) = await OpenAsync(time);
        await using var _ = client;
        stream.Respond = _ => null;

        var sending = SendHelloAsync(client);
        time.Advance(CommandTimeout - TimeSpan.FromSeconds(1));
        Assert.False(sending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));

        await Assert.ThrowsAsync<SmtpTimeoutException>(() => sending);
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task SendMessageAsync_BrokenSessionReused_ThrowsStale()
    {
        var time = new FakeTimeProvider();
        var (client, stream) = await OpenAsync(time);
        await using var _ = client;
        stream.Respond = _ => null;
        var first = SendHelloAsync(client);
        time.Advance(CommandTimeout + TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<SmtpTimeoutException>(() => first);

        // A pool hands out a reused session with resetFirst: a broken one is stale, nothing sent.
        await Assert.ThrowsAsync<SmtpStaleSessionException>(
            () => SendHelloAsync(client, resetFirst: true));
    }

    /// <summary>
    /// A clock whose timers, once due, are only queued: their callbacks run when the test says,
    /// as a real timer's callback may run late behind a busy thread pool.
    /// </summary>
    private sealed class LateTimeProvider : TimeProvider
    {
        private readonly List<LateTimer> _timers = [];
        private DateTimeOffset _now = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new LateTimer(this, callback, state);
            lock (_timers)
            {
                _timers.Add(timer);
            }
            timer.Change(dueTime, period);
            return timer;
        }

        /// <summary>Moves the clock; timers that come due are queued, not run.</summary>
        public void Advance(TimeSpan by)
        {
            _now += by;
            lock (_timers)
            {
                foreach (var t in _timers)
                {
                    if (t.Due is { } due && due <= _now)
                    {
                        t.Due = null;
                        t.Queued = true;
                    }
                }
            }
        }

        /// <summary>Runs the callbacks of the timers that came due.</summary>
        public void RunQueued()
        {
            List<LateTimer> queued;
            lock (_timers)
            {
                queued = _timers.Where(t => t.Queued).ToList();
                queued.ForEach(t => t.Queued = false);
            }
            queued.ForEach(t => t.Run());
        }

        private sealed class LateTimer(LateTimeProvider clock, TimerCallback callback, object? state) : ITimer
        {
            public DateTimeOffset? Due { get; set; }

            public bool Queued { get; set; }

            public void Run() => callback(state);

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                // Like a real timer: once queued, changing it does not recall the callback.
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock.GetUtcNow() + dueTime;
                return true;
            }

            public void Dispose() => Due = null;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return default;
            }
        }
    }

    [Fact]
    public async Task SendMessageAsync_TimerCallbackRunsLateAfterItsWait_LaterStepsUnaffected()
    {
        var time = new LateTimeProvider();
        var stream = new ScriptedServerStream("220 mx.test ESMTP\r\n");
        stream.Respond = s => s.StartsWith("EHLO", StringComparison.Ordinal) ? "250-mx.test\r\n250 PIPELINING\r\n" : null;
        var client = new SmtpClient(stream, new SmtpClientOptions { EhloName = "client.test", TimeProvider = time, CommandTimeout = CommandTimeout });
        await using var _ = client;
        await client.ReadGreetingAsync(CancellationToken.None);
        await client.EhloAsync(CancellationToken.None);
        bool bodySent = false;
        stream.Respond = s =>
        {
            bodySent |= s.EndsWith(".\r\n", StringComparison.Ordinal);
            return s.EndsWith("DATA\r\n", StringComparison.Ordinal) ? "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n" : null;
        };
        stream.Hold = s => s.EndsWith("DATA\r\n", StringComparison.Ordinal);
        stream.OnReadWait = () =>
        {
            if (bodySent)
            {
                // The group write's timer came due as that write completed; its callback runs
                // only now, while the client waits for the final reply.
                bodySent = false;
                time.RunQueued();
                stream.Push("250 2.0.0 queued\r\n");
            }
        };

        var sending = SendHelloAsync(client);
        await stream.Held.Task;
        time.Advance(CommandTimeout + TimeSpan.FromSeconds(1));
        stream.Release();
        var result = await sending;

        Assert.Equal(250, result.RecipientReplies[0].Code);
        Assert.False(client.IsBroken);
    }
}
