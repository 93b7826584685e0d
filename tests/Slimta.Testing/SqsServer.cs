using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Slimta.Testing;

/// <summary>
/// A small SQS server for tests, on 127.0.0.1 and an ephemeral port, speaking the AWS JSON 1.0
/// protocol that AWSSDK.SQS 4 uses (<c>POST /</c>, <c>X-Amz-Target: AmazonSQS.&lt;Operation&gt;</c>,
/// <c>application/x-amz-json-1.0</c>).
/// <para>
/// Why it exists: no package the project can install runs a local SQS that speaks this protocol
/// (npm's SQS emulators — sqslite, the serverless-offline family — speak the older query protocol,
/// or wrap ElasticMQ/LocalStack, which need a Java jar or a container from outside the registries).
/// It implements what the aws queue uses, faithfully: CreateQueue, GetQueueUrl, SendMessage
/// (DelaySeconds), ReceiveMessage (MaxNumberOfMessages, VisibilityTimeout, WaitTimeSeconds long
/// polling), DeleteMessage, ChangeMessageVisibility (latest receipt only, 12-hour limit),
/// GetQueueAttributes (approximate counts, MessageRetentionPeriod) and PurgeQueue, with AWS's error shapes and MD5 digests
/// (the SDK checks them). It does not check signatures.
/// </para>
/// <para>
/// Its clock is a <see cref="TimeProvider"/>, so delays and visibility timeouts follow a test's
/// fake clock. <see cref="Stop"/> and <see cref="Start"/> close and reopen the port with the
/// queues kept, which is what an SQS outage looks like to a client (SQS itself keeps messages).
/// </para>
/// </summary>
public sealed class SqsServer : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SqsQueue> _queues = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private HttpListener? _listener;
    private Task? _loop;

    private SqsServer(TimeProvider time, int port)
    {
        _time = time;
        Port = port;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>The endpoint to give the SDK as its ServiceURL.</summary>
    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <summary>Requests handled, by operation (for tests that check what a client did).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>Starts a server on a free port.</summary>
    public static SqsServer Start(TimeProvider? time = null)
    {
        for (int attempt = 0; ; attempt++)
        {
            var server = new SqsServer(time ?? TimeProvider.System, FreePort.Next());
            try
            {
                server.Start();
                return server;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // The port was taken again between FreePort and the bind.
            }
        }
    }

    /// <summary>Opens the port (again, after <see cref="Stop"/>), with the queues as they were.</summary>
    public void Start()
    {
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        _listener = listener;
        _loop = Task.Run(() => AcceptAsync(listener));
    }

    /// <summary>Closes the port: clients get connection refused until <see cref="Start"/>.</summary>
    public void Stop()
    {
        var listener = _listener;
        _listener = null;
        if (listener is not null)
        {
            listener.Abort();
            ((IDisposable)listener).Dispose();
        }
    }

    /// <summary>Creates a queue directly (as CreateQueue would) and returns its URL.</summary>
    public string CreateQueue(string name, TimeSpan? visibilityTimeout = null, TimeSpan? retention = null, string? redrivePolicy = null)
    {
        lock (_lock)
        {
            if (!_queues.TryGetValue(name, out var queue))
            {
                queue = new SqsQueue(name, $"{Url}000000000000/{name}", visibilityTimeout ?? TimeSpan.FromSeconds(30), TimeSpan.Zero)
                {
                    Retention = retention ?? TimeSpan.FromDays(4),
                    RedrivePolicy = redrivePolicy,
                };
                _queues[name] = queue;
            }
            return queue.Url;
        }
    }

    /// <summary>(visible, in flight, delayed) message counts of a queue.</summary>
    public (int Visible, int InFlight, int Delayed) Counts(string name)
    {
        lock (_lock)
        {
            return _queues[name].Counts(_time.GetUtcNow());
        }
    }

    /// <summary>Every message body in a queue.</summary>
    public List<string> Bodies(string name)
    {
        lock (_lock)
        {
            return _queues[name].Bodies();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _changed.Dispose();
    }

    private async Task AcceptAsync(HttpListener listener)
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            string body;
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                body = await reader.ReadToEndAsync().ConfigureAwait(false);
            }
            var target = context.Request.Headers["X-Amz-Target"] ?? string.Empty;
            JsonNode? result;
            try
            {
                if (context.Request.HttpMethod != "POST" || !target.StartsWith("AmazonSQS.", StringComparison.Ordinal))
                {
                    throw new SqsError("UnknownOperationException", "UnknownOperationException", "This server speaks the AWS JSON 1.0 protocol of SQS only (POST with X-Amz-Target: AmazonSQS.*).");
                }
                var operation = target["AmazonSQS.".Length..];
                Calls.AddOrUpdate(operation, 1, (_, n) => n + 1);
                var request = (string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body) as JsonObject) ?? [];
                result = await DispatchAsync(operation, request).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new SqsError("SerializationException", "SerializationException", e.Message);
            }
            await WriteAsync(response, 200, result?.ToJsonString() ?? "{}", null).ConfigureAwait(false);
        }
        catch (SqsError e)
        {
            var error = new JsonObject { ["__type"] = "com.amazonaws.sqs#" + e.Code, ["message"] = e.Message };
            await WriteAsync(response, e.Status, error.ToJsonString(), $"{e.QueryCode};Sender").ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away, or the server was stopped under the request.
        }
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string json, string? queryError)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(json);
            response.StatusCode = status;
            response.ContentType = "application/x-amz-json-1.0";
            response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
            if (queryError is not null)
            {
                response.Headers["x-amzn-query-error"] = queryError;
            }
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task<JsonNode?> DispatchAsync(string operation, JsonObject request)
    {
        switch (operation)
        {
            case "CreateQueue":
            {
                var name = RequiredString(request, "QueueName");
                var attributes = request["Attributes"] as JsonObject;
                var visibility = attributes?["VisibilityTimeout"] is { } v ? TimeSpan.FromSeconds(int.Parse(v.GetValue<string>(), CultureInfo.InvariantCulture)) : (TimeSpan?)null;
                var retention = attributes?["MessageRetentionPeriod"] is { } r ? TimeSpan.FromSeconds(int.Parse(r.GetValue<string>(), CultureInfo.InvariantCulture)) : (TimeSpan?)null;
                var redrive = attributes?["RedrivePolicy"]?.GetValue<string>();
                return new JsonObject { ["QueueUrl"] = CreateQueue(name, visibility, retention, redrive) };
            }
            case "GetQueueUrl":
            {
                var name = RequiredString(request, "QueueName");
                lock (_lock)
                {
                    return _queues.TryGetValue(name, out var queue)
                        ? new JsonObject { ["QueueUrl"] = queue.Url }
                        : throw NonExistentQueue();
                }
            }
            case "SendMessage":
            {
                var body = RequiredString(request, "MessageBody");
                if (Encoding.UTF8.GetByteCount(body) > 262144)
                {
                    throw SqsError.InvalidParameter("MessageBody", "Message must be shorter than 262144 bytes.");
                }
                int? delay = OptionalInt(request, "DelaySeconds", 0, 900);
                var md5 = Md5(body);
                SqsMessage message;
                lock (_lock)
                {
                    message = QueueOf(request).Send(body, md5, delay is { } d ? TimeSpan.FromSeconds(d) : null, _time.GetUtcNow());
                }
                _changed.Release();
                return new JsonObject { ["MessageId"] = message.Id, ["MD5OfMessageBody"] = md5 };
            }
            case "ReceiveMessage":
                return await ReceiveAsync(request).ConfigureAwait(false);
            case "DeleteMessage":
            {
                var handle = RequiredString(request, "ReceiptHandle");
                lock (_lock)
                {
                    QueueOf(request).Delete(handle);
                }
                return null;
            }
            case "ChangeMessageVisibility":
            {
                var handle = RequiredString(request, "ReceiptHandle");
                int seconds = OptionalInt(request, "VisibilityTimeout", 0, 43200) ?? throw MissingParameter("VisibilityTimeout");
                lock (_lock)
                {
                    QueueOf(request).ChangeVisibility(handle, TimeSpan.FromSeconds(seconds), _time.GetUtcNow());
                }
                _changed.Release();
                return null;
            }
            case "GetQueueAttributes":
            {
                (int visible, int inFlight, int delayed) counts;
                TimeSpan retention;
                string? redrive;
                lock (_lock)
                {
                    var queue = QueueOf(request);
                    counts = queue.Counts(_time.GetUtcNow());
                    retention = queue.Retention;
                    redrive = queue.RedrivePolicy;
                }
                var result = new JsonObject
                {
                    ["Attributes"] = new JsonObject
                    {
                        ["ApproximateNumberOfMessages"] = counts.visible.ToString(CultureInfo.InvariantCulture),
                        ["ApproximateNumberOfMessagesNotVisible"] = counts.inFlight.ToString(CultureInfo.InvariantCulture),
                        ["ApproximateNumberOfMessagesDelayed"] = counts.delayed.ToString(CultureInfo.InvariantCulture),
                        ["MessageRetentionPeriod"] = ((long)retention.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                    },
                };
                if (redrive is not null)
                {
                    result["Attributes"]!["RedrivePolicy"] = redrive;
                }
                return result;
            }
            case "PurgeQueue":
                lock (_lock)
                {
                    QueueOf(request).Purge();
                }
                return null;
            default:
                throw new SqsError("UnknownOperationException", "UnknownOperationException", $"Operation {operation} is not implemented by this test server.");
        }
    }

    private async Task<JsonNode> ReceiveAsync(JsonObject request)
    {
        int max = OptionalInt(request, "MaxNumberOfMessages", 1, 10) ?? 1;
        int? visibility = OptionalInt(request, "VisibilityTimeout", 0, 43200);
        int wait = OptionalInt(request, "WaitTimeSeconds", 0, 20) ?? 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in new[] { "AttributeNames", "MessageSystemAttributeNames" })
        {
            if (request[key] is JsonArray array)
            {
                names.UnionWith(array.Select(n => n!.GetValue<string>()));
            }
        }
        // Long polling waits in real time (a network wait), while visibility follows the server's clock.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(wait);
        while (true)
        {
            List<(SqsMessage Message, string Handle)> received;
            lock (_lock)
            {
                received = QueueOf(request).Receive(max, visibility is { } v ? TimeSpan.FromSeconds(v) : null, _time.GetUtcNow());
            }
            if (received.Count > 0 || DateTime.UtcNow >= deadline || _listener is null)
            {
                var messages = new JsonArray();
                foreach (var (m, handle) in received)
                {
                    var item = new JsonObject { ["MessageId"] = m.Id, ["ReceiptHandle"] = handle, ["MD5OfBody"] = m.Md5, ["Body"] = m.Body };
                    var attributes = new JsonObject();
                    bool all = names.Contains("All");
                    if (all || names.Contains("SentTimestamp"))
                    {
                        attributes["SentTimestamp"] = m.Sent.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
                    }
                    if (all || names.Contains("ApproximateReceiveCount"))
                    {
                        attributes["ApproximateReceiveCount"] = m.ReceiveCount.ToString(CultureInfo.InvariantCulture);
                    }
                    if (all || names.Contains("ApproximateFirstReceiveTimestamp"))
                    {
                        attributes["ApproximateFirstReceiveTimestamp"] = m.FirstReceivedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
                    }
                    if (attributes.Count > 0)
                    {
                        item["Attributes"] = attributes;
                    }
                    messages.Add(item);
                }
                // AWS leaves Messages out when there are none.
                return messages.Count == 0 ? new JsonObject() : new JsonObject { ["Messages"] = messages };
            }
            var left = deadline - DateTime.UtcNow;
            // Woken by a send or a visibility change; hidden messages reappear without a signal.
            await _changed.WaitAsync(left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
        }
    }

    private SqsQueue QueueOf(JsonObject request)
    {
        var url = RequiredString(request, "QueueUrl");
        var name = url.TrimEnd('/');
        name = name[(name.LastIndexOf('/') + 1)..];
        return _queues.TryGetValue(name, out var queue) ? queue : throw NonExistentQueue();
    }

    private static SqsError NonExistentQueue() =>
        new("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.");

    private static SqsError MissingParameter(string name) =>
        new("MissingParameter", "MissingParameter", $"The request must contain the parameter {name}.");

    private static string RequiredString(JsonObject request, string name) =>
        request[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw MissingParameter(name);

    private static int? OptionalInt(JsonObject request, string name, int min, int max)
    {
        if (request[name] is not JsonValue v)
        {
            return null;
        }
        if (!v.TryGetValue<int>(out int value))
        {
            throw SqsError.InvalidParameter(name, "must be an integer");
        }
        return value < min || value > max
            ? throw SqsError.InvalidParameter(name, $"must be between {min} and {max}")
            : value;
    }

    private static string Md5(string body)
    {
#pragma warning disable CA5351 // SQS's digest of the body is MD5 by definition.
        return Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));
#pragma warning restore CA5351
    }
}
