using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Http;

/// <summary>
/// The <c>http</c> relay: POSTs each envelope's message as <c>message/rfc822</c> to a URL, with
/// <c>X-Envelope-Sender</c> and one <c>X-Envelope-Recipient</c> per recipient (each the UTF-8
/// address in base64, so any address survives HTTP header rules) and <c>X-Ehlo</c>. An
/// <c>X-Smtp-Reply</c> response header decides when present; otherwise 2xx is delivered, 4xx
/// permanent (the request itself is wrong), 5xx, another status, a connection failure or a
/// timeout transient. Every request runs under <c>timeout</c>, measured on the relay's
/// <see cref="TimeProvider"/>, from connecting to reading the response.
/// </summary>
internal sealed class HttpRelay : IRelay, IAsyncDisposable
{
    private const int MaxResponseBody = 64 * 1024;

    private readonly HttpClient _client;
    private readonly Uri _url;
    private readonly string _ehlo;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public HttpRelay(HttpClient client, Uri url, string ehlo, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        _client = client;
        _url = url;
        _ehlo = ehlo;
        _timeout = timeout;
        _time = time;
        _logger = logger;
        Remote = url.IsDefaultPort ? url.Host : $"{url.Host}:{url.Port}";
    }

    /// <summary>The next hop (<c>host[:port]</c> of the URL).</summary>
    public string Remote { get; }

    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        int count = envelope.Recipients.Count;
        if (count == 0)
        {
            return new RelayResult([], Remote);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, _url)
        {
            Content = new ReadOnlyMemoryContent(envelope.Message.Bytes),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        request.Headers.Add("X-Ehlo", _ehlo);
        request.Headers.Add("X-Envelope-Sender", Base64(envelope.Sender));
        foreach (var recipient in envelope.Recipients)
        {
            request.Headers.Add("X-Envelope-Recipient", Base64(recipient));
        }
        if (envelope.Id is { } id)
        {
            request.Headers.Add("X-Queue-Id", id);
        }

        using var timer = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        Reply reply;
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            reply = ReplyOf(response);
            try
            {
                // Read (a bounded part of) the body under the same timeout so the connection can
                // be reused; the status and headers decided already.
                await DrainAsync(response, linked.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                _logger.LogDebug("Reading the response body from {Remote} failed: {Error}", Remote, e.Message);
            }
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("POST of {Id} to {Remote} timed out after {Timeout}", envelope.Id, Remote, _timeout);
            reply = new Reply(451, "4.4.2", $"{Remote}: no response within {_timeout.TotalSeconds:0.###} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            _logger.LogWarning("POST of {Id} to {Remote} failed: {Error}", envelope.Id, Remote, e.Message);
            reply = new Reply(451, "4.4.1", $"{Remote}: {e.Message}");
        }
        _logger.LogInformation("Relayed {Id} to {Remote}: {Reply}", envelope.Id, Remote, reply);
        return RelayResult.ForAll(count, RecipientResult.FromReply(reply).Outcome, reply, Remote);
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private Reply ReplyOf(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var smtp = response.Headers.TryGetValues("X-Smtp-Reply", out var values) ? HttpRelaySmtpReply.Parse(values.FirstOrDefault()) : null;
        if (smtp is not null)
        {
            return smtp;
        }
        var reason = $"HTTP {status} {response.ReasonPhrase}".TrimEnd();
        return status switch
        {
            >= 200 and < 300 => new Reply(250, "2.0.0", $"{Remote}: {reason}"),
            >= 400 and < 500 => new Reply(550, "5.0.0", $"{Remote}: {reason}"),
            _ => new Reply(451, "4.0.0", $"{Remote}: {reason}"),
        };
    }

    private static async Task DrainAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[8192];
            int total = 0;
            int n;
            while (total < MaxResponseBody && (n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += n;
            }
        }
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
