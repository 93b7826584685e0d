using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Slimta.Smtp.Tests.Client;

/// <summary>
/// A tiny SMTP server for exact transcripts: on 127.0.0.1 and an ephemeral port it runs one
/// script per accepted connection, each a list of steps: send these bytes, expect exactly these
/// bytes from the client, hang (send nothing), or close. A mismatch fails <see cref="Completion"/>
/// with both texts. Because "expect" reads exactly the expected number of bytes before the next
/// step runs, a pipelined group only succeeds if the client really sent it without waiting.
/// </summary>
internal sealed class ScriptedSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly StringBuilder _received = new();
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _hanging = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ScriptedSmtpServer(IReadOnlyList<Step[]> scripts)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Completion = RunAsync(scripts);
    }

    /// <summary>The listening port.</summary>
    public int Port { get; }

    /// <summary>Completes when every script ran; faults on a transcript mismatch.</summary>
    public Task Completion { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections { get; private set; }

    /// <summary>Completes when a <see cref="Hang"/> step is reached.</summary>
    public Task Hanging => _hanging.Task;

    /// <summary>Everything the client sent, as UTF-8 text.</summary>
    public string Received
    {
        get
        {
            lock (_lock)
            {
                return _received.ToString();
            }
        }
    }

    /// <summary>A server that serves one connection with these steps.</summary>
    public static ScriptedSmtpServer Start(params Step[] steps) => new([steps]);

    /// <summary>A server that serves one connection per script, in order.</summary>
    public static ScriptedSmtpServer StartMany(params Step[][] scripts) => new(scripts);

    /// <summary>Send these bytes (UTF-8).</summary>
    public static Step Send(string text) => new(StepKind.Send, text);

    /// <summary>Read exactly these bytes from the client.</summary>
    public static Step Expect(string text) => new(StepKind.Expect, text);

    /// <summary>Read <paramref name="count"/> bytes whatever they are (then usually close: a drop mid-stream).</summary>
    public static Step Skip(int count) => new(StepKind.Skip, new string('x', count));

    /// <summary>Send nothing until the client goes away (for timeouts).</summary>
    public static Step Hang() => new(StepKind.Hang, string.Empty);

    /// <summary>Close the connection.</summary>
    public static Step Close() => new(StepKind.Close, string.Empty);

    /// <summary>Complete <paramref name="reached"/> (tells the test the script got here).</summary>
    public static Step Signal(TaskCompletionSource reached) => new(StepKind.Signal, string.Empty) { Reached = reached };

    /// <summary>Go on only once <paramref name="gate"/> completes (the test did something meanwhile).</summary>
    public static Step Wait(Task gate) => new(StepKind.Wait, string.Empty) { Gate = gate };

    /// <summary>Run the server side of a TLS handshake with <paramref name="certificate"/>; later steps go through TLS.</summary>
    public static Step Tls(X509Certificate2 certificate) => new(StepKind.Tls, string.Empty, certificate);

    /// <summary>Like <see cref="Tls"/>, but the client is expected to reject the certificate and hang up.</summary>
    public static Step TlsRejected(X509Certificate2 certificate) => new(StepKind.Tls, string.Empty, certificate) { FailureExpected = true };

    /// <summary>Stops listening and drops any connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The test asserts Completion itself when it cares.
        }
        _stop.Dispose();
    }

    private async Task RunAsync(IReadOnlyList<Step[]> scripts)
    {
        foreach (var script in scripts)
        {
            using var socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            Connections++;
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            try
            {
                await RunScriptAsync(stream, script).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException && script.Any(s => s.Kind == StepKind.Tls && s.FailureExpected))
            {
                // The client was expected to abandon the handshake.
            }
        }
    }

    private async Task RunScriptAsync(Stream stream, Step[] script)
    {
        SslStream? ssl = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var token = timeout.Token;
        for (int i = 0; i < script.Length; i++)
        {
            var step = script[i];
            switch (step.Kind)
            {
                case StepKind.Send:
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(step.Text), token).ConfigureAwait(false);
                    break;
                case StepKind.Expect:
                case StepKind.Skip:
                    var expected = Encoding.UTF8.GetBytes(step.Text);
                    var actual = new byte[expected.Length];
                    int got = 0;
                    while (got < actual.Length)
                    {
                        int n = await stream.ReadAsync(actual.AsMemory(got), token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            break;
                        }
                        got += n;
                    }
                    lock (_lock)
                    {
                        _received.Append(Encoding.UTF8.GetString(actual, 0, got));
                    }
                    if (step.Kind == StepKind.Expect && !actual.AsSpan(0, got).SequenceEqual(expected))
                    {
                        throw new InvalidOperationException(
                            $"step {i}: expected {Show(step.Text)} but the client sent {Show(Encoding.UTF8.GetString(actual, 0, got))}");
                    }
                    break;
                case StepKind.Hang:
                    _hanging.TrySetResult();
                    var sink = new byte[256];
                    try
                    {
                        while (await stream.ReadAsync(sink, token).ConfigureAwait(false) > 0)
                        {
                        }
                    }
                    catch (IOException)
                    {
                    }
                    return;
                case StepKind.Close:
                    return;
                case StepKind.Signal:
                    step.Reached!.TrySetResult();
                    break;
                case StepKind.Wait:
                    await step.Gate!.WaitAsync(token).ConfigureAwait(false);
                    break;
                case StepKind.Tls:
                    ssl = new SslStream(stream, leaveInnerStreamOpen: true);
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = step.Certificate }, token).ConfigureAwait(false);
                    stream = ssl;
                    break;
            }
        }
    }

    private static string Show(string text) => "\"" + text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    /// <summary>Kinds of script steps.</summary>
    internal enum StepKind
    {
        Send,
        Expect,
        Skip,
        Hang,
        Close,
        Tls,
        Signal,
        Wait,
    }

    /// <summary>One script step.</summary>
    internal sealed record Step(StepKind Kind, string Text, X509Certificate2? Certificate = null)
    {
        /// <summary>For a TLS step: the client is expected to reject the certificate.</summary>
        public bool FailureExpected { get; init; }

        /// <summary>For a signal step: completed when the step runs.</summary>
        public TaskCompletionSource? Reached { get; init; }

        /// <summary>For a wait step: the script goes on once it completes.</summary>
        public Task? Gate { get; init; }
    }
}
