using System.Text;
using System.Threading.Channels;

namespace Slimta.Smtp.Tests.Client;

/// <summary>
/// An in-memory SMTP server for client tests: canned replies per written command group, hooks on
/// flushes and on reads that would wait, and writes that can be held until the test lets them
/// complete. Closing it ends a pending read, as closing a socket does.
/// </summary>
internal sealed class ScriptedServerStream : Stream
{
    private readonly Channel<byte[]> _toClient = Channel.CreateUnbounded<byte[]>();
    private byte[]? _current;
    private int _position;
    private string _last = string.Empty;
    private TaskCompletionSource? _gate;

    public ScriptedServerStream(string greeting) => Push(greeting);

    /// <summary>Given each write as text: a reply to push, or null.</summary>
    public Func<string, string?> Respond { get; set; } = _ => null;

    /// <summary>Called with the last write's text on every flush.</summary>
    public Action<string>? OnFlush { get; set; }

    /// <summary>Called when the client is about to wait for bytes that are not there yet.</summary>
    public Action? OnReadWait { get; set; }

    /// <summary>Given each write as text: true to hold it until <see cref="Release"/>.</summary>
    public Func<string, bool> Hold { get; set; } = _ => false;

    /// <summary>True: a held write fails when its token is canceled, as a socket's does.</summary>
    public bool HonorCancellation { get; set; }

    /// <summary>Completes, with the write's token, when a write is being held.</summary>
    public TaskCompletionSource<CancellationToken> Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Push(string text) => _toClient.Writer.TryWrite(Encoding.ASCII.GetBytes(text));

    /// <summary>The server closes its side once the bytes pushed so far are read: reads then return 0 (end of stream).</summary>
    public void End() => _toClient.Writer.TryComplete();

    /// <summary>Lets the held write complete successfully, whatever its token says by now.</summary>
    public void Release() => _gate!.SetResult();

    protected override void Dispose(bool disposing)
    {
        _toClient.Writer.TryComplete(new IOException("stream closed"));
        base.Dispose(disposing);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_current is null || _position == _current.Length)
        {
            if (!_toClient.Reader.TryPeek(out _))
            {
                OnReadWait?.Invoke();
            }
            try
            {
                _current = await _toClient.Reader.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException e) when (e.InnerException is null)
            {
                return 0;
            }
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
        _last = text;
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
