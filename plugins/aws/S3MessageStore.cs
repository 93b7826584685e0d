using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Polly;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Aws;

/// <summary>
/// The S3 side of an aws queue: one immutable message object per message and one small state
/// object that every change rewrites (docs/operations.md, "S3 and SQS layout").
/// <para>
/// Why a separate state object rather than updating the message object's metadata by copying it
/// onto itself (CopyObject with MetadataDirective REPLACE): a copy rewrites the whole message for
/// every counter change (a 10 MB message would be copied three times per attempt), user metadata
/// is limited to 2 KB in all (too small for the delivered set of a message with many recipients),
/// and the message object stays exactly what the edge accepted. The price is a second GET when a
/// message is read.
/// </para>
/// <para>
/// S3 has no read-modify-write that every S3-compatible service offers, so updates are
/// serialized per id inside this process (striped locks); across processes only the worker
/// holding a message's claim changes it (the SQS visibility timeout is the claim), and a local
/// queue belongs to one process.
/// </para>
/// </summary>
internal sealed class S3MessageStore : IDisposable
{
    private const string StateSuffix = ".state";

    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly ResiliencePipeline _deadline;
    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public S3MessageStore(IAmazonS3 s3, AwsStorageSettings settings, ResiliencePipeline deadline)
    {
        _s3 = s3;
        _bucket = settings.BucketName;
        _prefix = settings.Prefix;
        _deadline = deadline;
    }

    /// <summary>Keys per ListObjectsV2 page (S3's maximum; tests make it small to cross page boundaries).</summary>
    internal int ListPageSize { get; set; } = 1000;

    /// <summary>The S3 client (for tests and for disposal by the owner).</summary>
    public IAmazonS3 Client => _s3;

    public string MessageKey(string id) => _prefix + id;

    public string StateKey(string id) => _prefix + id + StateSuffix;

    private ValueTask<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _deadline.ExecuteAsync(static async (call, ct) => await call(ct).ConfigureAwait(false), call, cancellationToken);

    private static bool IsNotFound(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode is "NoSuchKey" or "NotFound";

    /// <summary>Stores a new message object; when the call returns, the message is durable.</summary>
    public async Task PutAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, string? notice, CancellationToken cancellationToken)
    {
        var body = MessageObject.Encode(envelope);
        await RunAsync(async ct =>
        {
            var request = new PutObjectRequest
            {
                BucketName = _bucket,
                Key = MessageKey(id),
                InputStream = new MemoryStream(body, writable: false),
                ContentType = "application/octet-stream",
                // Sign the payload in one piece: S3-compatible servers do not all read the
                // aws-chunked encoding the SDK uses for streams otherwise.
                UseChunkEncoding = false,
            };
            request.Metadata[MessageObject.LayoutKey] = MessageObject.LayoutVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
            request.Metadata[MessageObject.NextKey] = MessageObject.FormatMs(nextAttempt);
            if (notice is not null)
            {
                request.Metadata[MessageObject.NoticeKey] = notice;
            }
            return await _s3.PutObjectAsync(request, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The message with its current state, or null when the message object does not exist.</summary>
    public async Task<(StoredMessage Message, string? Notice)?> GetAsync(string id, CancellationToken cancellationToken)
    {
        // Both objects at once: one round trip of latency instead of two.
        var stateTask = GetStateObjectAsync(id, cancellationToken);
        var messageTask = GetMessageObjectAsync(id, cancellationToken);
        // WhenAll observes both: a failure of either is the failure of the read.
        await Task.WhenAll(stateTask, messageTask).ConfigureAwait(false);
        var state = await stateTask.ConfigureAwait(false);
        if (await messageTask.ConfigureAwait(false) is not { } message)
        {
            return null;
        }
        var (body, initial) = message;
        state ??= initial;
        var envelope = MessageObject.Decode(id, body);
        var stored = new StoredMessage(id, envelope, state.Attempts, DateTimeOffset.FromUnixTimeMilliseconds(state.NextMs), new HashSet<int>(state.Delivered));
        return (stored, state.Notice);
    }

    /// <summary>The current state (the state object, else the message object's initial state); null when the message does not exist.</summary>
    public async Task<StateDocument?> ReadStateAsync(string id, bool? stateExists, CancellationToken cancellationToken)
    {
        if (stateExists != false && await GetStateObjectAsync(id, cancellationToken).ConfigureAwait(false) is { } state)
        {
            return state;
        }
        return await HeadInitialStateAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the state, applies <paramref name="change"/> and writes it back, serialized with every
    /// other change of <paramref name="id"/> in this process. Throws <see cref="KeyNotFoundException"/>
    /// when the message does not exist.
    /// </summary>
    public async Task<T> UpdateAsync<T>(string id, Func<StateDocument, T> change, CancellationToken cancellationToken)
    {
        var gate = _locks[(int)((uint)StringComparer.Ordinal.GetHashCode(id) % (uint)_locks.Length)];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = await ReadStateAsync(id, null, cancellationToken).ConfigureAwait(false)
                ?? throw new KeyNotFoundException($"No message with id '{id}' is stored.");
            var result = change(state);
            var json = JsonSerializer.SerializeToUtf8Bytes(state, AwsJsonContext.Default.StateDocument);
            await RunAsync(ct => _s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _bucket,
                Key = StateKey(id),
                InputStream = new MemoryStream(json, writable: false),
                ContentType = "application/json",
                UseChunkEncoding = false,
            }, ct), cancellationToken).ConfigureAwait(false);
            return result;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Adds one to the attempt count and returns the new count.</summary>
    public Task<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken) =>
        UpdateAsync(id, s => ++s.Attempts, cancellationToken);

    /// <summary>Adds recipient indexes to the delivered set (kept sorted, without duplicates); nothing to add is no call.</summary>
    public async Task MarkDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken)
    {
        if (recipientIndexes.Count == 0)
        {
            return;
        }
        await UpdateAsync(id, s => s.Delivered = [.. s.Delivered.Union(recipientIndexes).Order()], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes a message: the message object first, so that a crash between the two deletes leaves
    /// only a state object without a message (ignored, never delivered) rather than a message whose
    /// attempts and delivered recipients were forgotten (delivered again).
    /// </summary>
    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        // DeleteObject of a missing key succeeds in S3: removing twice is not an error.
        await RunAsync(ct => _s3.DeleteObjectAsync(_bucket, MessageKey(id), ct), cancellationToken).ConfigureAwait(false);
        await RunAsync(ct => _s3.DeleteObjectAsync(_bucket, StateKey(id), ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every message object under the prefix with its next attempt, listing the bucket page by page.</summary>
    public async IAsyncEnumerable<ScheduledMessage> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? token = null;
        // Keys are listed in UTF-8 order, so "<id>.state" comes right after "<id>" — possibly on
        // the next page: the last message id of a page waits for the next page to tell.
        string? pending = null;
        do
        {
            var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix, ContinuationToken = token, MaxKeys = ListPageSize };
            var page = await RunAsync(ct => _s3.ListObjectsV2Async(request, ct), cancellationToken).ConfigureAwait(false);
            var keys = (page.S3Objects ?? []).Select(o => o.Key[_prefix.Length..]).ToList();
            var states = new HashSet<string>(keys.Where(k => k.EndsWith(StateSuffix, StringComparison.Ordinal)).Select(k => k[..^StateSuffix.Length]), StringComparer.Ordinal);
            var ids = keys.Where(IsMessageName).ToList();
            bool truncated = page.IsTruncated == true;
            if (pending is not null)
            {
                if (await ScheduledAsync(pending, states.Contains(pending), cancellationToken).ConfigureAwait(false) is { } p)
                {
                    yield return p;
                }
                pending = null;
            }
            for (int i = 0; i < ids.Count; i++)
            {
                if (truncated && i == ids.Count - 1 && !states.Contains(ids[i]))
                {
                    pending = ids[i];
                    break;
                }
                if (await ScheduledAsync(ids[i], states.Contains(ids[i]), cancellationToken).ConfigureAwait(false) is { } m)
                {
                    yield return m;
                }
            }
            token = truncated ? page.NextContinuationToken : null;
        }
        while (token is not null);
        if (pending is not null && await ScheduledAsync(pending, null, cancellationToken).ConfigureAwait(false) is { } last)
        {
            yield return last;
        }
    }

    private static bool IsMessageName(string name) =>
        name.Length > 0 && !name.Contains('/', StringComparison.Ordinal) && !name.EndsWith(StateSuffix, StringComparison.Ordinal);

    private async Task<ScheduledMessage?> ScheduledAsync(string id, bool? stateExists, CancellationToken cancellationToken)
    {
        var state = await ReadStateAsync(id, stateExists, cancellationToken).ConfigureAwait(false);
        // Null: removed since the listing saw it.
        return state is null ? null : new ScheduledMessage(id, DateTimeOffset.FromUnixTimeMilliseconds(state.NextMs));
    }

    private async Task<(byte[] Body, StateDocument Initial)?> GetMessageObjectAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(async ct =>
            {
                using var response = await _s3.GetObjectAsync(_bucket, MessageKey(id), ct).ConfigureAwait(false);
                var initial = InitialState(id, response.Metadata);
                long length = response.ContentLength;
                using var buffer = new MemoryStream(length is > 0 and < int.MaxValue ? (int)length : 0);
                await response.ResponseStream.CopyToAsync(buffer, ct).ConfigureAwait(false);
                return ((byte[] Body, StateDocument Initial)?)(buffer.ToArray(), initial);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return null;
        }
    }

    private async Task<StateDocument?> GetStateObjectAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(async ct =>
            {
                using var response = await _s3.GetObjectAsync(_bucket, StateKey(id), ct).ConfigureAwait(false);
                var state = await JsonSerializer.DeserializeAsync(response.ResponseStream, AwsJsonContext.Default.StateDocument, ct).ConfigureAwait(false)
                    ?? throw new InvalidDataException($"state object of {id} is empty");
                return state.Version == MessageObject.LayoutVersion
                    ? state
                    : throw new InvalidDataException($"state object of {id} has layout version {state.Version}, this build reads {MessageObject.LayoutVersion}");
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return null;
        }
    }

    private async Task<StateDocument?> HeadInitialStateAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            var response = await RunAsync(ct => _s3.GetObjectMetadataAsync(_bucket, MessageKey(id), ct), cancellationToken).ConfigureAwait(false);
            return InitialState(id, response.Metadata);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return null;
        }
    }

    private static StateDocument InitialState(string id, MetadataCollection metadata)
    {
        if (metadata[MessageObject.LayoutKey] != "1")
        {
            throw new InvalidDataException($"message object {id} has layout '{metadata[MessageObject.LayoutKey]}', this build reads {MessageObject.LayoutVersion}");
        }
        long next = MessageObject.ParseMs(metadata[MessageObject.NextKey])
            ?? throw new InvalidDataException($"message object {id} has no {MessageObject.NextKey} metadata");
        var notice = metadata[MessageObject.NoticeKey];
        return new StateDocument { NextMs = next, Notice = string.IsNullOrEmpty(notice) ? null : notice };
    }

    public void Dispose()
    {
        foreach (var gate in _locks)
        {
            gate.Dispose();
        }
    }
}
