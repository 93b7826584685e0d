using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// Reusable sessions to one next hop. How many exist at once (in use plus idle) is bounded by the
/// connection slots of <see cref="PooledDestination"/>: a session is taken or opened only with a
/// slot in hand. An idle session is closed (QUIT) after <c>idle_timeout</c>, and is checked with
/// RSET (RFC 5321 §4.1.1.5) by the first transaction that reuses it, since the server may have
/// dropped it (<see cref="SessionResult.Reused"/>).
/// </summary>
internal sealed class SmtpConnectionPool : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<SessionResult>> _open;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleTimeout;
    private readonly Stack<(SmtpClient Client, long Since)> _idle = new();
    private readonly Lock _lock = new();
    private readonly ITimer? _sweeper;
    private readonly List<Task> _closing = [];
    private bool _disposed;

    public SmtpConnectionPool(Func<CancellationToken, Task<SessionResult>> open, TimeSpan idleTimeout, TimeProvider time)
    {
        _open = open;
        _time = time;
        _idleTimeout = idleTimeout;
        if (idleTimeout > TimeSpan.Zero)
        {
            _sweeper = time.CreateTimer(_ => Sweep(), null, idleTimeout, idleTimeout);
        }
    }

    /// <summary>Sessions opened so far (for tests and metrics).</summary>
    public int Opened { get; private set; }

    /// <summary>Idle sessions waiting for reuse.</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>
    /// A session for one transaction (reused or new), or the reply explaining why none could be
    /// opened. The caller holds a connection slot; a session returned here must come back through
    /// <see cref="Return"/>.
    /// </summary>
    public async Task<SessionResult> OpenAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (TryTakeIdle(out var client))
        {
            // Not checked here: the caller's transaction starts with RSET, pipelined with MAIL,
            // RCPT and DATA where the server allows, and a stale session makes the caller take
            // another (PooledDestination). A separate RSET round trip here cost one of the
            // three round trips of every relayed message (docs/benchmarks.md, third session).
            return SessionResult.Ok(client, reused: true);
        }
        var opened = await _open(cancellationToken).ConfigureAwait(false);
        if (opened.Client is not null)
        {
            lock (_lock)
            {
                Opened++;
            }
        }
        return opened;
    }

    /// <summary>Takes a session back: kept for reuse when it still works, else closed. The caller keeps its slot.</summary>
    public void Return(SmtpClient client)
    {
        bool keep;
        lock (_lock)
        {
            keep = !client.IsBroken && !_disposed && _idleTimeout > TimeSpan.Zero;
            if (keep)
            {
                _idle.Push((client, _time.GetTimestamp()));
            }
        }
        if (!keep)
        {
            Close(client);
        }
    }

    /// <summary>Closes every idle session; sessions in use are closed when released.</summary>
    public async ValueTask DisposeAsync()
    {
        List<SmtpClient> idle;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            idle = _idle.Select(i => i.Client).ToList();
            _idle.Clear();
        }
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var client in idle)
        {
            Close(client);
        }
        Task[] closing;
        lock (_lock)
        {
            closing = [.. _closing];
        }
        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    private bool TryTakeIdle(out SmtpClient client)
    {
        var expired = new List<SmtpClient>();
        SmtpClient? found = null;
        lock (_lock)
        {
            while (_idle.TryPop(out var entry))
            {
                if (_time.GetElapsedTime(entry.Since) < _idleTimeout)
                {
                    found = entry.Client;
                    break;
                }
                expired.Add(entry.Client);
            }
        }
        // Closing starts I/O (QUIT): never under the lock.
        expired.ForEach(Close);
        client = found!;
        return found is not null;
    }

    private void Sweep()
    {
        var expired = new List<SmtpClient>();
        lock (_lock)
        {
            if (_disposed || _idle.Count == 0)
            {
                return;
            }
            // The stack holds the newest on top; keep those still fresh, close the rest.
            var entries = _idle.Reverse().ToList();
            _idle.Clear();
            foreach (var entry in entries)
            {
                if (_time.GetElapsedTime(entry.Since) < _idleTimeout)
                {
                    _idle.Push(entry);
                }
                else
                {
                    expired.Add(entry.Client);
                }
            }
        }
        expired.ForEach(Close);
    }

    /// <summary>Closes a session in the background (QUIT under the command timeout), tracked so disposal can wait for it.</summary>
    private void Close(SmtpClient client)
    {
        var task = SmtpConnector.CloseAsync(client);
        lock (_lock)
        {
            _closing.RemoveAll(t => t.IsCompleted);
            _closing.Add(task);
        }
    }
}
