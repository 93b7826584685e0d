using System.Text;
using System.Threading.Channels;
using Slimta.Smtp.Client;

namespace Slimta.Smtp.Tests.Client;

/// <summary>Cancellation in the middle of a transaction: the session must never be reused afterwards.</summary>
public sealed class SmtpClientCancellationTests
{
    /// <summary>An in-memory server: canned replies per written command group, a hook on every flush.</summary>
    private sealed class ScriptedStream : Stream
    {
        private readonly Channel<byte[]> _toClient = Channel.CreateUnbounded<byte[]>();
        private byte[]? _current;
        private int _position;
        private string _last = string.Empty;

        public ScriptedStream(string greeting) => Push(greeting);

        public Func<string, string?> Respond { get; set; } = _ => null;

        public Action<string>? OnFlush { get; set; }

        public void Push(string text) => _toClient.Writer.TryWrite(Encoding.ASCII.GetBytes(text));

        protected override void Dispose(bool disposing)
        {
            // Like a socket: closing it ends a pending read.
            _toClient.Writer.TryComplete(new IOException("stream closed"));
            base.Dispose(disposing);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_current is null || _position == _current.Length)
            {
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
            _last = Encoding.ASCII.GetString(buffer.Span);
            if (Respond(_last) is { } reply)
            {
                Push(reply);
            }
            return default;
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            OnFlush?.Invoke(_last);
            return Task.CompletedTask;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static async Task<(SmtpClient Client, ScriptedStream Stream)> OpenAsync()
    {
        var stream = new ScriptedStream("220 mx.test ESMTP\r\n")
        {
            Respond = s => s.StartsWith("EHLO", StringComparison.Ordinal) ? "250-mx.test\r\n250 PIPELINING\r\n"
                : s.EndsWith("DATA\r\n", StringComparison.Ordinal) ? "250 ok\r\n250 ok\r\n354 go\r\n"
                : null,
        };
        var client = new SmtpClient(stream, new SmtpClientOptions { EhloName = "client.test" });
        await client.ReadGreetingAsync(CancellationToken.None);
        await client.EhloAsync(CancellationToken.None);
        return (client, stream);
    }

    [Fact]
    public async Task SendMessageAsync_CanceledBetweenGroupAndReplies_SessionBroken()
    {
        var (client, stream) = await OpenAsync();
        await using var _ = client;
        using var cts = new CancellationTokenSource();
        // Canceled right after the pipelined group went out, before its replies are read: the
        // server now waits in DATA with replies unread, so reusing the session would make the next
        // message the body of this transaction.
        stream.OnFlush = last =>
        {
            if (last.EndsWith("DATA\r\n", StringComparison.Ordinal))
            {
                cts.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => client.SendMessageAsync("first@x.test", ["r@x.test"], Encoding.ASCII.GetBytes("first\r\n"), false, cts.Token));

        Assert.True(client.IsBroken);
        // A pooled session would be closed; used anyway, it refuses before writing anything.
        var writes = new List<string>();
        stream.Respond = s =>
        {
            writes.Add(s);
            return null;
        };
        await Assert.ThrowsAnyAsync<IOException>(
            () => client.SendMessageAsync("second@x.test", ["o@y.test"], Encoding.ASCII.GetBytes("second\r\n"), false, resetFirst: true, CancellationToken.None));
        Assert.Empty(writes);
    }

    [Fact]
    public async Task DisposeAsync_DuringRead_CallersCancelDoesNotThrow()
    {
        var (client, _) = await OpenAsync();
        using var cts = new CancellationTokenSource();
        var pending = client.NoopAsync(cts.Token);   // no reply is ever scripted for NOOP

        await client.DisposeAsync();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<Exception>(() => pending);
    }
}
