using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Server;

/// <summary>
/// The session's view of its input pipe: keeps the unconsumed part of the last read so that
/// every pipelined command already received is processed before more input is awaited
/// (RFC 2920), and so that DATA is decoded straight out of the same buffer.
/// </summary>
internal sealed class SmtpInput
{
    private PipeReader _reader;
    private ReadOnlySequence<byte> _buffer;
    private bool _holding;
    private bool _completed;
    private CommandLineReader _lines;

    public SmtpInput(PipeReader reader) => _reader = reader;

    /// <summary>True when the peer finished sending and everything buffered was consumed.</summary>
    public bool IsAtEnd => _completed && (!_holding || _buffer.IsEmpty);

    /// <summary>True when part of a command line was received (or a too-long line is being discarded).</summary>
    public bool HasPartialLine => (_holding && !_buffer.IsEmpty) || _lines.IsDiscarding;

    /// <summary>
    /// Takes the next command line out of the buffered input, copied into <paramref name="destination"/>
    /// (at least <see cref="SmtpLimits.MaxCommandLine"/> bytes). Does no I/O.
    /// </summary>
    public LineReadStatus TryReadLine(Span<byte> destination, out int length)
    {
        length = 0;
        if (!_holding)
        {
            return LineReadStatus.NeedMoreData;
        }
        var status = _lines.TryRead(ref _buffer, out var line);
        if (status == LineReadStatus.Line)
        {
            line.CopyTo(destination);
            length = (int)line.Length;
        }
        return status;
    }

    /// <summary>Feeds buffered input to <paramref name="decoder"/>; true when the data ended. Does no I/O.</summary>
    public bool TryDecodeData(DataDecoder decoder)
    {
        if (!_holding)
        {
            return false;
        }
        long used = 0;
        foreach (var segment in _buffer)
        {
            // The decoder takes a whole segment unless the data ends inside it.
            used += decoder.Decode(segment.Span);
            if (decoder.IsComplete)
            {
                break;
            }
        }
        _buffer = _buffer.Slice(used);
        return decoder.IsComplete;
    }

    /// <summary>Releases what was consumed and waits for more input.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FetchAsync(CancellationToken cancellationToken)
    {
        if (_holding)
        {
            // Everything left is examined: the next read waits for new bytes.
            _reader.AdvanceTo(_buffer.Start, _buffer.End);
            _holding = false;
        }
        var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The read was canceled.");
        }
        _buffer = result.Buffer;
        _holding = true;
        _completed = result.IsCompleted;
    }

    /// <summary>
    /// Switches to a new reader (the transport after a TLS handshake). Anything still buffered
    /// from the old transport is dropped: bytes pipelined in plaintext after STARTTLS must never
    /// be read as commands of the secure session (CVE-2011-0411 class).
    /// </summary>
    public void ReplaceReader(PipeReader reader)
    {
        Release();
        _reader = reader;
        _completed = false;
        _lines.Reset();
    }

    /// <summary>Hands the unconsumed buffer back to the pipe.</summary>
    public void Release()
    {
        if (_holding)
        {
            _reader.AdvanceTo(_buffer.Start);
            _holding = false;
        }
    }
}
