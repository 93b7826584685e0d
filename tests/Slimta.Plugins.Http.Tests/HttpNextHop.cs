using System.Collections.Concurrent;
using System.Net;
using Slimta.Testing;

namespace Slimta.Plugins.Http.Tests;

/// <summary>
/// A real HTTP server (HttpListener) on 127.0.0.1 and an ephemeral port standing in for the next
/// hop: records every request and answers with the test's handler.
/// </summary>
internal sealed class HttpNextHop : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<HttpListenerContext, Task> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private HttpNextHop(HttpListener listener, int port, Func<HttpListenerContext, Task> respond)
    {
        _listener = listener;
        Port = port;
        _respond = respond;
        _loop = RunAsync();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/deliver";

    public ConcurrentQueue<Received> Requests { get; } = new();

    public static HttpNextHop Start(Func<HttpListenerContext, Task> respond)
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort.Next();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new HttpNextHop(listener, port, respond);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    /// <summary>Answers with a status code and optional X-Smtp-Reply.</summary>
    public static HttpNextHop Answering(int status, string? smtpReply = null) => Start(context =>
    {
        context.Response.StatusCode = status;
        if (smtpReply is not null)
        {
            context.Response.Headers.Add("X-Smtp-Reply", smtpReply);
        }
        context.Response.Close();
        return Task.CompletedTask;
    });

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var context = await _listener.GetContextAsync();
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Requests.Enqueue(new Received(
                context.Request.HttpMethod,
                context.Request.ContentType,
                context.Request.Url?.AbsolutePath ?? string.Empty,
                context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers.GetValues(k)!, StringComparer.OrdinalIgnoreCase),
                body.ToArray()));
            _ = _respond(context);
        }
    }

    public sealed record Received(string Method, string? ContentType, string Path, IReadOnlyDictionary<string, string[]> Headers, byte[] Body);
}
