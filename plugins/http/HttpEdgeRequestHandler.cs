using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Http;

/// <summary>
/// One request of the <c>http</c> edge: a POST of a <c>message/rfc822</c> body with the envelope in
/// <c>X-Envelope-Sender</c> and <c>X-Envelope-Recipient</c> (base64 of the address, UTF-8; the
/// recipient header once per recipient or comma-separated) and the client's name in <c>X-Ehlo</c>
/// — python-slimta's wsgi edge, the counterpart of the <c>http</c> relay. Every answer carries the
/// SMTP reply the message got in <c>X-Smtp-Reply</c>: 204 accepted (with <c>X-Queue-Id</c>), 503 a
/// transient (4xx) refusal, 500 a permanent (5xx) one, 401 missing or wrong credentials, 400 a bad
/// envelope, 405 not POST, 413 too large, 415 not message/rfc822.
/// </summary>
internal sealed class HttpEdgeRequestHandler
{
    private static readonly Reply QueueFailed = new(451, "4.3.0", "Local error in processing, try again later");
    private readonly HttpEdgeOptions _options;
    private readonly IQueue _queue;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[]? _credentialsHash;

    public HttpEdgeRequestHandler(HttpEdgeOptions options, IQueue queue, TimeProvider time, ILogger logger)
    {
        _options = options;
        _queue = queue;
        _time = time;
        _logger = logger;
        if (options.Username is not null)
        {
            _credentialsHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Username + ":" + options.Password));
        }
    }

    /// <summary>Answers <paramref name="context"/> and closes its response.</summary>
    public async Task HandleAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            var (status, reply, queueId, user) = await ProcessAsync(request, cancellationToken).ConfigureAwait(false);
            response.StatusCode = status;
            response.Headers["X-Smtp-Reply"] = HeaderSafe(reply.ToString());
            if (queueId is not null)
            {
                response.Headers["X-Queue-Id"] = HeaderSafe(queueId);
            }
            if (status == 401)
            {
                response.Headers["WWW-Authenticate"] = "Basic realm=\"slimta\", charset=\"UTF-8\"";
            }
            if (status == 405)
            {
                response.Headers["Allow"] = "POST";
            }
            if (status == 204)
            {
                response.ContentLength64 = 0;
            }
            else
            {
                var body = Encoding.UTF8.GetBytes(reply + "\n");
                response.ContentType = "text/plain; charset=utf-8";
                response.ContentLength64 = body.Length;
                await response.OutputStream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
            }
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            _logger.LogDebug(ex, "HTTP request from {Client} ended early", request.RemoteEndPoint?.Address);
            response.Abort();
        }
    }

    private async Task<(int Status, Reply Reply, string? QueueId, string? User)> ProcessAsync(HttpListenerRequest request, CancellationToken cancellationToken)
    {
        string? user = null;
        if (_credentialsHash is not null)
        {
            user = Authenticate(request.Headers["Authorization"]);
            if (user is null)
            {
                return (401, new Reply(535, "5.7.8", "Authentication credentials invalid"), null, null);
            }
        }
        if (!string.Equals(request.HttpMethod, "POST", StringComparison.Ordinal))
        {
            return (405, new Reply(502, "5.5.1", "Only POST is accepted"), null, user);
        }
        var mediaType = (request.ContentType ?? string.Empty).Split(';', 2)[0].Trim();
        if (!mediaType.Equals("message/rfc822", StringComparison.OrdinalIgnoreCase))
        {
            return (415, new Reply(554, "5.6.1", "The body must be message/rfc822"), null, user);
        }
        var sender = DecodeAddress(request.Headers["X-Envelope-Sender"], allowEmpty: true);
        if (sender is null)
        {
            return (400, new Reply(501, "5.1.7", "X-Envelope-Sender must be the base64 of the sender address"), null, user);
        }
        var recipients = new List<string>();
        foreach (var value in (request.Headers.GetValues("X-Envelope-Recipient") ?? []).SelectMany(v => v.Split(',')))
        {
            var recipient = DecodeAddress(value, allowEmpty: false);
            if (recipient is null)
            {
                return (400, new Reply(501, "5.1.3", "X-Envelope-Recipient must be the base64 of a recipient address"), null, user);
            }
            recipients.Add(recipient);
        }
        if (recipients.Count == 0)
        {
            return (400, new Reply(554, "5.5.1", "No valid recipients (X-Envelope-Recipient)"), null, user);
        }
        var tooBig = new Reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        if (request.ContentLength64 > _options.MaxSize)
        {
            return (413, tooBig, null, user);
        }
        var body = await ReadBodyAsync(request.InputStream, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return (413, tooBig, null, user);
        }
        var remote = request.RemoteEndPoint;
        var ehlo = request.Headers["X-Ehlo"];
        var envelope = new Envelope(sender, recipients, new RawMessage(body))
        {
            Client = new ClientInfo(remote?.Address, remote?.Port ?? 0, null, string.IsNullOrWhiteSpace(ehlo) ? null : HeaderSafe(ehlo.Trim()), "HTTP", user),
            ReceivedAt = _time.GetUtcNow(),
            SmtpUtf8 = !Ascii.IsValid(sender) || recipients.Any(r => !Ascii.IsValid(r)),
        };
        IReadOnlyList<QueueResult> results;
        try
        {
            results = await _queue.EnqueueAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(ex, "Queueing a message from {Client} failed", remote?.Address);
            return (503, QueueFailed, null, user);
        }
        if (results.Count == 0)
        {
            return (503, QueueFailed, null, user);
        }
        foreach (var result in results)
        {
            if (!result.IsAccepted)
            {
                var reply = result.Reply ?? QueueFailed;
                _logger.LogWarning("Message from {Client} not accepted by the queue: {Reply}", remote?.Address, reply);
                return (reply.IsPermanent ? 500 : 503, reply, null, user);
            }
        }
        foreach (var result in results)
        {
            _logger.LogInformation("Accepted message {QueueId} over HTTP from {Client}: sender <{Sender}>, {RecipientCount} recipient(s), {Size} bytes",
                result.Id, remote?.Address, result.Envelope.Sender, result.Envelope.Recipients.Count, result.Envelope.Message.Length);
        }
        var first = results[0];
        var ids = string.Join(",", results.Select(r => r.Id).Where(id => id is not null));
        return (204, first.Reply ?? new Reply(250, "2.6.0", $"{first.Id} Message accepted"), ids.Length == 0 ? null : ids, user);
    }

    /// <summary>Reads at most max_size bytes within data_timeout; null when the body is larger.</summary>
    private async Task<byte[]?> ReadBodyAsync(Stream input, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.DataTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        while (true)
        {
            // HttpListener's stream may not watch the token itself: WaitAsync bounds the wait.
            int n = await input.ReadAsync(chunk, linked.Token).AsTask().WaitAsync(linked.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return buffer.ToArray();
            }
            if (buffer.Length + n > _options.MaxSize)
            {
                return null;
            }
            buffer.Write(chunk, 0, n);
        }
    }

    private string? Authenticate(string? header)
    {
        const string Scheme = "Basic ";
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(header[Scheme.Length..].Trim());
        }
        catch (FormatException)
        {
            return null;
        }
        // Compare hashes in constant time: neither the length nor the content of the configured
        // credentials leaks through timing.
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(decoded), _credentialsHash))
        {
            return null;
        }
        return _options.Username;
    }

    private static string? DecodeAddress(string? value, bool allowEmpty)
    {
        if (value is null)
        {
            return null;
        }
        string address;
        try
        {
            address = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(value.Trim()));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return null;
        }
        if (address.Length == 0)
        {
            return allowEmpty ? address : null;
        }
        // The same shape the SMTP edge accepts: no brackets, spaces or control characters (they
        // would let an address smuggle text into Received headers or relay commands).
        if (address.Length > 320 || address.Any(c => char.IsControl(c) || c is '<' or '>' or ' '))
        {
            return null;
        }
        return address;
    }

    private static string HeaderSafe(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(c is >= ' ' and <= '~' ? c : '?');
        }
        return sb.ToString();
    }
}
