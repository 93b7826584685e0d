using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Http;

/// <summary>
/// The <c>http</c> edge: an <see cref="HttpListener"/> taking messages by POST (see
/// <see cref="HttpEdgeRequestHandler"/> for the request format and the answers). Plain HTTP only:
/// put it behind a TLS-terminating proxy, or bind it to loopback.
/// </summary>
public sealed class HttpEdge : IBindableEdge
{
    private readonly HttpEdgeOptions _options;
    private readonly HttpEdgeRequestHandler _handler;
    private readonly ILogger _logger;
    private readonly HttpListener _listener = new();
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly ConcurrentDictionary<Task, byte> _requests = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _state; // 0 new, 1 started, 2 stopped

    /// <summary>Creates the edge; <see cref="StartAsync"/> opens the listener.</summary>
    public HttpEdge(HttpEdgeOptions options, IQueue queue, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(context);
        _options = options;
        _logger = context.Loggers.CreateLogger<HttpEdge>();
        _handler = new HttpEdgeRequestHandler(options, queue, context.Time, _logger);
        _slots = new SemaphoreSlim(options.MaxConnections, options.MaxConnections);
        _listener.Prefixes.Add(options.Prefix);
        _listener.IgnoreWriteExceptions = true;
    }

    /// <summary>The HttpListener prefix (<c>http://127.0.0.1:8025/</c>).</summary>
    public string Prefix => _options.Prefix;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The edge was already started.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        Bind();
        _acceptLoop = AcceptLoopAsync();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Bind()
    {
        if (_listener.IsListening)
        {
            return;
        }
        _listener.Start();
        _logger.LogInformation("HTTP edge listening on {Prefix}", _options.Prefix);
    }

    /// <summary>Stops accepting; requests in progress finish until <paramref name="cancellationToken"/> fires, then they are cut off.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        int previous = Interlocked.Exchange(ref _state, 2);
        if (previous == 2)
        {
            return;
        }
        if (previous == 1)
        {
            // Stop closes the listening socket; GetContextAsync then fails and the loop ends.
            await _stopping.CancelAsync().ConfigureAwait(false);
            _listener.Stop();
            await _acceptLoop.ConfigureAwait(false);
        }
        try
        {
            await Task.WhenAll(_requests.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Cutting off {Count} HTTP request(s) still open at shutdown", _requests.Count);
            await _abort.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_requests.Keys).ConfigureAwait(false);
        }
        _listener.Close();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using (var canceled = new CancellationTokenSource())
        {
            await canceled.CancelAsync().ConfigureAwait(false);
            await StopAsync(canceled.Token).ConfigureAwait(false);
        }
        _stopping.Dispose();
        _abort.Dispose();
        _slots.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (Volatile.Read(ref _state) == 1)
        {
            try
            {
                await _slots.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                _slots.Release();
                if (Volatile.Read(ref _state) != 1)
                {
                    return;
                }
                _logger.LogWarning(ex, "Accepting an HTTP request failed");
                continue;
            }
            var task = HandleAsync(context);
            _requests.TryAdd(task, 0);
            _ = task.ContinueWith(t => _requests.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        await Task.Yield();
        try
        {
            await _handler.HandleAsync(context, _abort.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A misbehaving client or queue never takes the process down.
            _logger.LogWarning(ex, "HTTP request ended with an error");
            context.Response.Abort();
        }
        finally
        {
            _slots.Release();
        }
    }
}
