using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Server;

/// <summary>
/// One SMTP server session (RFC 5321) over a duplex pipe. The transport (TCP, later TLS) is not
/// the session's concern: it reads and writes bytes through <see cref="IDuplexPipe"/>, as Kestrel
/// separates connections from protocols. Replies are buffered and flushed only when no further
/// command is buffered (RFC 2920 pipelining) or before the session waits for DATA or closes.
/// </summary>
public sealed partial class SmtpServerSession : IDisposable
{
    private readonly SmtpInput _input;
    private PipeWriter _output;
    private readonly SmtpServerOptions _options;
    private readonly ISmtpServerHandler _handler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[] _line = new byte[SmtpLimits.MaxCommandLine];
    private readonly List<EsmtpParameter> _parameters = [];
    private readonly MessageBuffer _message = new();
    private SessionState _state = SessionState.Connected;
    private SmtpTransaction? _transaction;
    private int _errors;
    private DateTimeOffset _commandStarted;
    private volatile bool _inData;
    private CancellationTokenSource? _wait;
    private CancellationToken _stopping;
    private CancellationToken _aborted;

    /// <summary>Creates a session on <paramref name="transport"/>; <see cref="RunAsync"/> runs it.</summary>
    /// <param name="transport">The connection's byte streams.</param>
    /// <param name="info">What is known about the client.</param>
    /// <param name="options">Limits and texts.</param>
    /// <param name="handler">The decisions about senders, recipients and messages.</param>
    /// <param name="time">The clock for timeouts.</param>
    /// <param name="logger">Protocol-level logging; message bodies are never logged.</param>
    public SmtpServerSession(IDuplexPipe transport, SmtpSessionInfo info, SmtpServerOptions options, ISmtpServerHandler handler, TimeProvider time, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(time);
        _input = new SmtpInput(transport.Input);
        _output = transport.Output;
        _options = options;
        _handler = handler;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        Info = info;
    }

    /// <summary>What the session knows about its client.</summary>
    public SmtpSessionInfo Info { get; }

    /// <summary>
    /// Greets the client and serves commands until QUIT, a fatal error, the client closing, or
    /// cancellation. When <paramref name="stopping"/> fires, an idle session answers 421 4.3.2 and
    /// ends, while a message being received or handed over is finished first. When
    /// <paramref name="cancellationToken"/> fires, the session ends at once. The caller closes the transport.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken cancellationToken)
    {
        _stopping = stopping;
        _aborted = cancellationToken;
        _wait = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        // Registered on the outer tokens, not linked: TryReset on a linked source's parent would
        // drop the link. Stopping only interrupts waits outside DATA.
        using var onStop = stopping.Register(static s => ((SmtpServerSession)s!).CancelWaitIfIdle(), this);
        using var onAbort = cancellationToken.Register(static s => ((SmtpServerSession)s!).CancelWait(), this);
        try
        {
            Write(new Reply(220, null, _options.EffectiveBanner));
            while (true)
            {
                var status = _input.TryReadLine(_line, out int length);
                if (status == LineReadStatus.NeedMoreData)
                {
                    if (_input.IsAtEnd)
                    {
                        return;
                    }
                    var outcome = stopping.IsCancellationRequested ? WaitOutcome.Stopping : await WaitForInputAsync(CommandWaitTime()).ConfigureAwait(false);
                    if (outcome != WaitOutcome.Ready)
                    {
                        Write(outcome == WaitOutcome.Stopping ? SmtpReplies.ShuttingDown : SmtpReplies.Timeout);
                        return;
                    }
                    continue;
                }
                bool keepOpen = status switch
                {
                    LineReadStatus.Line => await DispatchAsync(length, cancellationToken).ConfigureAwait(false),
                    LineReadStatus.TooLong => await ErrorAsync(SmtpReplies.LineTooLong, cancellationToken).ConfigureAwait(false),
                    _ => await ErrorAsync(SmtpReplies.BareLineFeed, cancellationToken).ConfigureAwait(false),
                };
                if (!keepOpen)
                {
                    return;
                }
                // The next command's time starts once this one is answered.
                _commandStarted = _time.GetUtcNow();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogDebug("SMTP session with {Client} aborted", Info.RemoteEndPoint);
        }
        catch (IOException ex)
        {
            _logger.LogDebug(ex, "SMTP session with {Client} lost its connection", Info.RemoteEndPoint);
        }
        finally
        {
            _input.Release();
            await FinalFlushAsync().ConfigureAwait(false);
            onStop.Dispose();
            onAbort.Dispose();
            _wait.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _message.Dispose();

    private void CancelWaitIfIdle()
    {
        if (!_inData)
        {
            CancelWait();
        }
    }

    private void CancelWait()
    {
        try
        {
            _wait?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session already ended.
        }
    }

    private ValueTask<bool> DispatchAsync(int length, CancellationToken cancellationToken)
    {
        var line = _line.AsMemory(0, length);
        var verb = CommandTokenizer.Tokenize(line.Span, out int argumentStart);
        var handler = SessionStateTable.Lookup(_state, verb);
        if (handler is null)
        {
            return ErrorAsync(SessionStateTable.BadSequence(_state, verb), cancellationToken);
        }
        return handler(this, line[argumentStart..], cancellationToken);
    }

    /// <summary>
    /// How long to wait for the rest of the current command. The command timeout (RFC 5321
    /// §4.5.3.2.7) bounds the whole command, not each read: a client trickling a line one byte at
    /// a time cannot hold the session open forever.
    /// </summary>
    private TimeSpan CommandWaitTime()
    {
        var now = _time.GetUtcNow();
        if (!_input.HasPartialLine)
        {
            _commandStarted = now;
            return _options.CommandTimeout;
        }
        var left = _commandStarted + _options.CommandTimeout - now;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>Flushes pending replies and waits for more input, under <paramref name="timeout"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WaitOutcome> WaitForInputAsync(TimeSpan timeout)
    {
        var wait = _wait!;
        if (wait.IsCancellationRequested && !_aborted.IsCancellationRequested && (_inData || !_stopping.IsCancellationRequested))
        {
            // Canceled for a reason that does not apply to this wait: a stop that came while
            // the commands before DATA were processed, or a timer that fired just after the
            // previous wait ended. Every wait gets its own full timeout.
            wait = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            var old = _wait!;
            _wait = wait;
            old.Dispose();
            if (!_inData && _stopping.IsCancellationRequested)
            {
                // The stop callback may have hit the old source just before the swap.
                wait.Cancel();
            }
        }
        // Armed before the flush: once the client has seen our reply, the timer is running.
        wait.CancelAfter(timeout);
        try
        {
            await _output.FlushAsync(wait.Token).ConfigureAwait(false);
            await _input.FetchAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_aborted.IsCancellationRequested)
        {
            return !_inData && _stopping.IsCancellationRequested ? WaitOutcome.Stopping : WaitOutcome.TimedOut;
        }
        _aborted.ThrowIfCancellationRequested();
        // A false return means the timer fired right after the input arrived; the next wait
        // replaces the source.
        wait.TryReset();
        return WaitOutcome.Ready;
    }

    private async ValueTask FinalFlushAsync()
    {
        if (_aborted.IsCancellationRequested)
        {
            return;
        }
        try
        {
            using var flush = new CancellationTokenSource(_options.CommandTimeout, _time);
            using var link = _aborted.Register(static s => ((CancellationTokenSource)s!).Cancel(), flush);
            await _output.FlushAsync(flush.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            _logger.LogDebug(ex, "Could not flush the last replies to {Client}", Info.RemoteEndPoint);
        }
    }

    private void Write(Reply reply) => SmtpReplyWriter.Write(_output, reply);

    /// <summary>Writes one reply; the session goes on.</summary>
    internal ValueTask<bool> ReplyAsync(Reply reply, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        Write(reply);
        return ValueTask.FromResult(true);
    }

    /// <summary>
    /// Writes one protocol-error reply and counts it; the error that reaches
    /// <see cref="SmtpServerOptions.MaxErrors"/> is answered with 421 instead and closes the session.
    /// </summary>
    internal ValueTask<bool> ErrorAsync(Reply reply, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        if (++_errors >= _options.MaxErrors)
        {
            _logger.LogInformation("Closing SMTP session with {Client}: too many errors", Info.RemoteEndPoint);
            Write(SmtpReplies.TooManyErrors);
            return ValueTask.FromResult(false);
        }
        Write(reply);
        return ValueTask.FromResult(true);
    }
}
