using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Slimta.Smtp.Server;

namespace Slimta.Smtp.Tests.Server;

/// <summary>Runs one <see cref="SmtpServerSession"/> over in-memory pipes and talks to it like a client.</summary>
internal sealed class SessionHarness : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TaskCompletionSource<IDuplexPipe?> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Pipe _toServer = new();
    private Pipe _toClient = new();

    public SessionHarness(SmtpServerOptions? options = null, bool tls = false, SmtpSecurityOptions? security = null)
    {
        Options = options ?? new SmtpServerOptions { Hostname = "mx.test", MaxSize = 1000, MaxErrors = 10 };
        var session = new SmtpServerSession(new Duplex(_toServer.Reader, _toClient.Writer),
            new SmtpSessionInfo(new IPEndPoint(IPAddress.Loopback, 40000)), Options, Handler, Time)
        {
            Tls = tls ? new FakeTls(_handshake) : null,
            Security = security ?? SmtpSecurityOptions.None,
        };
        Session = session;
        Run = Task.Run(async () =>
        {
            try
            {
                await session.RunAsync(Stopping.Token, Abort.Token);
            }
            finally
            {
                session.Dispose();
                await _toClient.Writer.CompleteAsync();
            }
        });
    }

    public SmtpServerOptions Options { get; }

    public SmtpServerSession Session { get; }

    public RecordingHandler Handler { get; } = new();

    public ManualTimeProvider Time { get; } = new();

    public CancellationTokenSource Stopping { get; } = new();

    public CancellationTokenSource Abort { get; } = new();

    public Task Run { get; }

    /// <summary>Sends text; each char is one byte (Latin-1), so "\xe9" sends byte 0xE9.</summary>
    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _toServer.Writer.WriteAsync(bytes);

    /// <summary>Ends the client's side of the connection.</summary>
    public async Task CloseInputAsync() => await _toServer.Writer.CompleteAsync();

    /// <summary>Reads one complete reply (all its lines, joined by \n), or null when the server closed.</summary>
    public async Task<string?> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (line is null)
            {
                return lines.Count == 0 ? null : string.Join('\n', lines);
            }
            lines.Add(line);
            if (line.Length < 4 || line[3] == ' ')
            {
                return string.Join('\n', lines);
            }
        }
    }

    /// <summary>Reads one reply and returns its code.</summary>
    public async Task<string> ExpectAsync(string codePrefix)
    {
        var reply = await ReadReplyAsync();
        Assert.NotNull(reply);
        Assert.StartsWith(codePrefix, reply);
        return reply;
    }

    /// <summary>Reads every reply until the server closes.</summary>
    public async Task<List<string>> ReadAllRepliesAsync()
    {
        var replies = new List<string>();
        while (await ReadReplyAsync() is { } reply)
        {
            replies.Add(reply);
        }
        return replies;
    }

    /// <summary>True when the session ended (the server closed its output).</summary>
    public async Task<bool> IsClosedAsync()
    {
        await Run.WaitAsync(Patience);
        return await ReadLineAsync() is null;
    }

    private async Task<string?> ReadLineAsync()
    {
        var reader = _toClient.Reader;
        while (true)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Patience);
            var buffer = result.Buffer;
            var lf = buffer.PositionOf((byte)'\n');
            if (lf is not null)
            {
                var line = buffer.Slice(0, lf.Value).ToArray();
                reader.AdvanceTo(buffer.GetPosition(1, lf.Value));
                Assert.True(line.Length > 0 && line[^1] == (byte)'\r', "reply lines end with CRLF");
                return Encoding.ASCII.GetString(line, 0, line.Length - 1);
            }
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, "no partial reply line at close");
                reader.AdvanceTo(buffer.End);
                return null;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Completes the server's TLS "handshake" after its 220 was read: both sides switch to new
    /// pipes, so anything still in the old ones is what a real server would have read in plaintext.
    /// </summary>
    public void Handshake(bool succeed = true)
    {
        if (!succeed)
        {
            _handshake.SetResult(null);
            return;
        }
        var toServer = new Pipe();
        var toClient = new Pipe();
        _toServer = toServer;
        _toClient = toClient;
        _handshake.SetResult(new Duplex(toServer.Reader, toClient.Writer));
    }

    /// <summary>Connects, reads the greeting and sends EHLO.</summary>
    public async Task GreetAsync()
    {
        await ExpectAsync("220 ");
        await SendAsync("EHLO client.test\r\n");
        await ExpectAsync("250");
    }

    public async ValueTask DisposeAsync()
    {
        await Abort.CancelAsync();
        await _toServer.Writer.CompleteAsync();
        try
        {
            await Run.WaitAsync(Patience);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class FakeTls(TaskCompletionSource<IDuplexPipe?> handshake) : ISmtpTlsTransport
    {
        public async ValueTask<IDuplexPipe?> StartTlsAsync(CancellationToken cancellationToken) =>
            await handshake.Task.WaitAsync(cancellationToken);
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
