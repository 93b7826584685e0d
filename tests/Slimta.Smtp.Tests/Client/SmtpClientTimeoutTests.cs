using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Slimta.Smtp.Client;

namespace Slimta.Smtp.Tests.Client;

/// <summary>Stage timeouts on a fake clock: writes that wait, and a timer that fires as a wait ends.</summary>
public sealed class SmtpClientTimeoutTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>An in-memory server whose writes can be held until the test lets them complete.</summary>
    private sealed class GatedStream : Stream
    {
        private readonly Channel<byte[]> _toClient = Channel.CreateUnbounded<byte[]>();
        private byte[]? _current;
        private int _position;

        public GatedStream(string greeting) => Push(greeting);

        /// <summary>Given each write as text: a reply to push at once, or null.</summary>
        public Func<string, string?> Respond { get; set; } = _ => null;

        /// <summary>Given each write as text: true to hold it until <see cref="Release"/>.</summary>
        public Func<string, bool> Hold { get; set; } = _ => false;

        /// <summary>Called when the client is about to wait for bytes that are not there yet.</summary>
        public Action? OnReadWait { get; set; }

        /// <summary>True: a held write fails when its token is canceled, as a socket's does.</summary>
        public bool HonorCancellation { get; set; }

        /// <summary>Completes when a write is being held.</summary>
        public TaskCompletionSource<CancellationToken> Held { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private TaskCompletionSource? _gate;

        public void Push(string text) => _toClient.Writer.TryWrite(Encoding.ASCII.GetBytes(text));

        /// <summary>Lets the held write complete successfully, whatever its token says by now.</summary>
        public void Release() => _gate!.SetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_current is null || _position == _current.Length)
            {
                if (!_toClient.Reader.TryPeek(out _))
                {
                    OnReadWait?.Invoke();
                }
                _current = await _toClient.Reader.ReadAsync(cancellationToken);
                _position = 0;
            }
            int n = Math.Min(buffer.Length, _current.Length - _position);
            _current.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var text = Encoding.ASCII.GetString(buffer.Span);
            if (Hold(text))
            {
                _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Held.SetResult(cancellationToken);
                return new ValueTask(RespondAfterAsync(HonorCancellation ? _gate.Task.WaitAsync(cancellationToken) : _gate.Task, text));
            }
            if (Respond(text) is { } reply)
            {
                Push(reply);
            }
            return default;
        }

        private async Task RespondAfterAsync(Task gate, string text)
        {
            await gate;
            if (Respond(text) is { } reply)
            {
                Push(reply);
            }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static async Task<(SmtpClient Client, GatedStream Stream)> OpenAsync(FakeTimeProvider time)
    {
        var stream = new GatedStream("220 mx.test ESMTP\r\n")
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

        var sending = client.SendMessageAsync("a@x.test", ["b@y.test"], "hello\r\n"u8.ToArray(), false, CancellationToken.None);
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

        var sending = client.SendMessageAsync("a@x.test", ["b@y.test"], "hello\r\n"u8.ToArray(), false, CancellationToken.None);
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

        var sending = client.SendMessageAsync("a@x.test", ["b@y.test"], "hello\r\n"u8.ToArray(), false, CancellationToken.None);
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
        var first = client.SendMessageAsync("a@x.test", ["b@y.test"], "hello\r\n"u8.ToArray(), false, CancellationToken.None);
        time.Advance(CommandTimeout + TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<SmtpTimeoutException>(() => first);

        // A pool hands out a reused session with resetFirst: a broken one is stale, nothing sent.
        await Assert.ThrowsAsync<SmtpStaleSessionException>(
            () => client.SendMessageAsync("a@x.test", ["b@y.test"], "hello\r\n"u8.ToArray(), false, resetFirst: true, CancellationToken.None));
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
        var stream = new GatedStream("220 mx.test ESMTP\r\n");
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

        var sending = client.SendMessageAsync("a@x.test", ["b@y.test"], "hello\r\n"u8.ToArray(), false, CancellationToken.None);
        await stream.Held.Task;
        time.Advance(CommandTimeout + TimeSpan.FromSeconds(1));
        stream.Release();
        var result = await sending;

        Assert.Equal(250, result.RecipientReplies[0].Code);
        Assert.False(client.IsBroken);
    }
}
