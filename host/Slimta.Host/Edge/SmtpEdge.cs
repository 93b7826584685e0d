using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;
using Slimta.Smtp.Server;

namespace Slimta.Host.Edge;

/// <summary>
/// The SMTP edge: TCP listeners whose sessions (<see cref="SmtpServerSession"/>) hand messages to
/// a queue. Each listener has its own accept loop; each connection runs one session.
/// </summary>
public sealed class SmtpEdge : IBindableEdge
{
    private static readonly Reply TooManyConnections = new(421, "4.7.0", "Too many connections, try again later");

    private readonly SmtpEdgeOptions _options;
    private readonly SmtpServerOptions _serverOptions;
    private readonly EdgeSessionHandler _handler;
    private readonly EdgeChecks _checks;
    private readonly SmtpEdgeConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly ConcurrentDictionary<Task, byte> _sessions = new();
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private List<EndPoint> _bound = [];
    private int _connections;
    private int _state; // 0 new, 1 started, 2 stopped

    /// <summary>Creates an edge; <see cref="StartAsync"/> opens its listeners.</summary>
    /// <param name="options">Validated options (see <see cref="SmtpEdgeOptionsParser"/>).</param>
    /// <param name="queue">Where received messages go.</param>
    /// <param name="context">Clock, loggers and host names; templates in the options are expanded with it.</param>
    public SmtpEdge(SmtpEdgeOptions options, IQueue queue, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(context);
        _options = options;
        _time = context.Time;
        _logger = context.Loggers.CreateLogger<SmtpEdge>();
        _serverOptions = new SmtpServerOptions
        {
            Hostname = context.Expand(options.Hostname ?? context.Fqdn),
            Banner = context.Expand(options.Banner),
            MaxSize = options.MaxSize,
            MaxRecipients = options.MaxRecipients,
            MaxErrors = options.MaxErrors,
            CommandTimeout = options.CommandTimeout,
            DataTimeout = options.DataTimeout,
        };
        _checks = new EdgeChecks(options, context, _serverOptions.Hostname, _logger);
        Telemetry = new EdgeTelemetry(_logger);
        _handler = new EdgeSessionHandler(options, queue, context.Time, _logger, _checks, Telemetry);
        var certificate = options.Tls is null ? null : Tls.TlsCertificateLoader.Load(options.Tls, context, "tls");
        var security = new SmtpSecurityOptions
        {
            Authenticator = options.Credentials is null ? null : new Auth.CredentialAuthenticator(options.Credentials),
            AllowPlaintextAuth = options.AuthPlaintext,
            RequireAuth = options.Credentials is not null,
            RequireTls = options.RequireTls,
        };
        _connection = new SmtpEdgeConnection(options, _serverOptions, security, certificate, _handler, _checks, _time, _logger, Telemetry);
    }

    /// <summary>Connection and refusal events and metrics; the server attaches the edge's name and instruments before start.</summary>
    internal EdgeTelemetry Telemetry { get; }

    /// <summary>The endpoints actually bound (with the ports the system chose for port 0); empty before start.</summary>
    public IReadOnlyList<EndPoint> BoundEndPoints => _bound;

    /// <summary>Sessions currently open.</summary>
    public int ActiveConnections => Volatile.Read(ref _connections);

    /// <summary>The session options this edge uses (host name and banner expanded).</summary>
    public SmtpServerOptions ServerOptions => _serverOptions;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The edge was already started.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        Bind();
        foreach (var socket in _listeners)
        {
            _acceptLoops.Add(AcceptLoopAsync(socket));
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Bind()
    {
        if (_listeners.Count > 0)
        {
            return;
        }
        var bound = new List<EndPoint>();
        try
        {
            foreach (var listener in _options.Listeners)
            {
                var socket = new Socket(listener.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                _listeners.Add(socket);
                socket.Bind(listener.EndPoint);
                socket.Listen(512);
                bound.Add(socket.LocalEndPoint!);
                _logger.LogInformation("SMTP edge listening on {EndPoint}", socket.LocalEndPoint);
            }
        }
        catch
        {
            CloseListeners();
            _listeners.Clear();
            throw;
        }
        _bound = bound;
    }

    /// <summary>
    /// Stops accepting; idle sessions get 421 4.3.2 and close; sessions receiving or handing
    /// over a message finish it. When <paramref name="cancellationToken"/> fires, the remaining
    /// sessions are cut off.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        CloseListeners();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_sessions.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Cutting off {Count} SMTP session(s) still open at shutdown", _sessions.Count);
            await _abort.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(_sessions.Keys).WaitAsync(TimeSpan.FromSeconds(10), _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _logger.LogError("{Count} SMTP session(s) did not end after being cut off", _sessions.Count);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using (var canceled = new CancellationTokenSource())
        {
            await canceled.CancelAsync().ConfigureAwait(false);
            await StopAsync(canceled.Token).ConfigureAwait(false);
        }
        await _checks.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _abort.Dispose();
    }

    private void CloseListeners()
    {
        foreach (var socket in _listeners)
        {
            socket.Dispose();
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // Out of descriptors or a connection reset before accept: log, breathe, go on.
                _logger.LogWarning(ex, "Accepting a connection failed");
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            Telemetry.ConnectionAccepted();
            Track(Interlocked.Increment(ref _connections) > _options.MaxConnections
                ? RefuseAsync(client)
                : RunSessionAsync(client));
        }
    }

    private void Track(Task task)
    {
        _sessions.TryAdd(task, 0);
        // Runs at once when the task already finished, so nothing stays in the set.
        _ = task.ContinueWith(t => _sessions.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task RefuseAsync(Socket client)
    {
        await Task.Yield();
        try
        {
            Telemetry.SessionRefused(client.RemoteEndPoint, "max_connections", TooManyConnections);
            await SendAndCloseAsync(client, TooManyConnections).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug(ex, "Could not send 421 to a refused connection");
        }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref _connections);
            Telemetry.ConnectionEnded();
        }
    }

    private async Task SendAndCloseAsync(Socket client, Reply reply)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>(64);
        SmtpReplyWriter.Write(writer, reply);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        await client.SendAsync(writer.WrittenMemory, SocketFlags.None, timeout.Token).ConfigureAwait(false);
        client.Shutdown(SocketShutdown.Both);
    }

    private async Task RunSessionAsync(Socket client)
    {
        // Leave the accept loop at once: the session starts on the thread pool.
        await Task.Yield();
        try
        {
            await _connection.RunAsync(client, _stopping.Token, _abort.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // The client went away (reset, broken pipe): routine on port 25, not worth a warning.
            _logger.LogDebug("SMTP session ended by the network: {Message}", ex.Message);
        }
        catch (Exception ex)
        {
            // A misbehaving client or handler must never take the process down.
            _logger.LogWarning(ex, "SMTP session ended with an error");
        }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref _connections);
            Telemetry.ConnectionEnded();
        }
    }
}
