using System.Collections.Concurrent;
using System.Net;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Xunit;

namespace Slimta.Testing.StorageContract;

/// <summary>
/// The behaviour every <see cref="IQueueStorage"/> must have, as xUnit tests. A storage's test
/// project subclasses this and supplies <see cref="CreateStorageAsync"/> (a fresh, empty storage
/// per call); persistent storages also override <see cref="ReopenAsync"/> so that every check is
/// repeated against a storage reopened from what the first one wrote.
/// </summary>
/// <remarks>
/// Times are compared at millisecond precision: a storage must keep at least that much of
/// <see cref="Envelope.ReceivedAt"/> and of the next-attempt time (the samples here are whole
/// milliseconds, in different UTC offsets, so a storage that keeps the instant passes).
/// Delivered recipient indexes accumulate: a second <see cref="IQueueStorage.SetRecipientsDeliveredAsync"/>
/// adds to the first.
/// </remarks>
public abstract class StorageContractTests
{
    /// <summary>A time with whole milliseconds in a non-UTC offset.</summary>
    protected static readonly DateTimeOffset SampleTime = new(2026, 11, 28, 21, 4, 5, 678, TimeSpan.FromHours(-5));

    /// <summary>A fresh, empty storage. Called once per test (and per storage a test needs).</summary>
    protected abstract ValueTask<IQueueStorage> CreateStorageAsync();

    /// <summary>
    /// The storage as another process would see it after a restart: a persistent storage opens a
    /// new instance over the same data. Tests only read from the reopened instance. Both instances
    /// are released through <see cref="ReleaseAsync"/> at the end of the test (so if this method
    /// disposes <paramref name="storage"/> itself, disposing must be idempotent). The default
    /// returns <paramref name="storage"/> itself (right for the memory storage).
    /// </summary>
    protected virtual ValueTask<IQueueStorage> ReopenAsync(IQueueStorage storage) => ValueTask.FromResult(storage);

    /// <summary>Releases a storage at the end of a test; the default disposes it when it is <see cref="IAsyncDisposable"/>.</summary>
    protected virtual async ValueTask ReleaseAsync(IQueueStorage storage)
    {
        if (storage is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }

    /// <summary>A unique queue id in the format the engine uses (32 lower-case hex digits).</summary>
    protected static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary>An envelope with every field set to a value other than its default.</summary>
    protected static Envelope FullEnvelope(string id)
    {
        var envelope = new Envelope(
            "sender@example.org",
            ["first@example.com", "second@EXAMPLE.net", "δοκιμή@παράδειγμα.δοκιμή"],
            RawMessage.FromString("From: sender@example.org\r\nSubject: contract\r\n\r\nbody line\r\n"))
        {
            Id = id,
            Client = new ClientInfo(IPAddress.Parse("2001:db8::25"), 54321, "client.example.org", "ehlo.example.org", "ESMTPSA", "alice"),
            ReceivedAt = SampleTime,
            SmtpUtf8 = true,
            BodyType = "8BITMIME",
        };
        return envelope;
    }

    /// <summary>An envelope with the null sender and every optional field unset.</summary>
    protected static Envelope MinimalEnvelope(string id) =>
        new(string.Empty, ["postmaster@example.com"], new RawMessage(Array.Empty<byte>()))
        {
            Id = id,
            Client = new ClientInfo(null, 0, null, null, "SMTP", null),
        };

    /// <summary>Asserts that two envelopes agree in every field, the message byte for byte.</summary>
    protected static void AssertSameEnvelope(Envelope expected, Envelope actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Sender, actual.Sender);
        Assert.Equal(expected.IsNullSender, actual.IsNullSender);
        Assert.Equal(expected.Recipients, actual.Recipients);
        Assert.Equal(expected.Message.Bytes.ToArray(), actual.Message.Bytes.ToArray());
        Assert.Equal(expected.Client.Address, actual.Client.Address);
        Assert.Equal(expected.Client.Port, actual.Client.Port);
        Assert.Equal(expected.Client.ReverseDns, actual.Client.ReverseDns);
        Assert.Equal(expected.Client.EhloName, actual.Client.EhloName);
        Assert.Equal(expected.Client.Protocol, actual.Client.Protocol);
        Assert.Equal(expected.Client.AuthenticatedUser, actual.Client.AuthenticatedUser);
        Assert.Equal(expected.ReceivedAt, actual.ReceivedAt);
        Assert.Equal(expected.SmtpUtf8, actual.SmtpUtf8);
        Assert.Equal(expected.BodyType, actual.BodyType);
    }

    /// <summary>Runs <paramref name="test"/> on a fresh storage and releases it afterwards.</summary>
    protected async Task WithStorageAsync(Func<IQueueStorage, Task> test)
    {
        ArgumentNullException.ThrowIfNull(test);
        var storage = await CreateStorageAsync();
        _opened.Add(storage);
        try
        {
            await test(storage);
        }
        finally
        {
            // Release the storage and every reopened instance, each once, newest first.
            foreach (var opened in _opened.Distinct(ReferenceEqualityComparer.Instance).Cast<IQueueStorage>().Reverse().ToList())
            {
                await ReleaseAsync(opened);
            }
            _opened.Clear();
        }
    }

    /// <summary><see cref="ReopenAsync"/>, remembering the new instance so that it is released at the end.</summary>
    private async Task<IQueueStorage> ReopenTrackedAsync(IQueueStorage storage)
    {
        var reopened = await ReopenAsync(storage);
        _opened.Add(reopened);
        return reopened;
    }

    private readonly List<IQueueStorage> _opened = [];

    private static CancellationToken Ct => CancellationToken.None;

    private static async Task<List<ScheduledMessage>> LoadAllAsync(IQueueStorage storage)
    {
        var list = new List<ScheduledMessage>();
        await foreach (var message in storage.LoadAllAsync(Ct))
        {
            list.Add(message);
        }
        return list;
    }

    /// <summary>Writes and reads back, once directly and once after <see cref="ReopenAsync"/>.</summary>
    private async Task<StoredMessage?[]> WriteThenGetTwiceAsync(IQueueStorage storage, Envelope envelope, DateTimeOffset next)
    {
        await storage.WriteAsync(envelope.Id!, envelope, next, Ct);
        var first = await storage.GetAsync(envelope.Id!, Ct);
        var reopened = await ReopenTrackedAsync(storage);
        var second = await reopened.GetAsync(envelope.Id!, Ct);
        return [first, second];
    }

    /// <summary>Every envelope field survives a round trip.</summary>
    [Fact]
    public Task WriteAsync_FullEnvelope_GetReturnsEveryField() => WithStorageAsync(async storage =>
    {
        var id = NewId();
        var envelope = FullEnvelope(id);
        var next = SampleTime.AddMinutes(5);
        foreach (var stored in await WriteThenGetTwiceAsync(storage, envelope, next))
        {
            Assert.NotNull(stored);
            Assert.Equal(id, stored.Id);
            AssertSameEnvelope(FullEnvelope(id), stored.Envelope);
            Assert.Equal(0, stored.Attempts);
            Assert.Equal(next, stored.NextAttempt);
            Assert.Empty(stored.Delivered);
        }
    });

    /// <summary>The null sender, an empty message and unset optional fields survive a round trip.</summary>
    [Fact]
    public Task WriteAsync_MinimalEnvelope_GetReturnsNullSenderAndUnsetFields() => WithStorageAsync(async storage =>
    {
        var id = NewId();
        foreach (var stored in await WriteThenGetTwiceAsync(storage, MinimalEnvelope(id), SampleTime))
        {
            Assert.NotNull(stored);
            AssertSameEnvelope(MinimalEnvelope(id), stored.Envelope);
            Assert.True(stored.Envelope.IsNullSender);
            Assert.Null(stored.Envelope.Client.Address);
            Assert.Null(stored.Envelope.BodyType);
            Assert.Equal(default, stored.Envelope.ReceivedAt);
        }
    });

    /// <summary>Message bytes are stored exactly: every byte value, bare CR and bare LF, NUL, no trailing newline.</summary>
    [Fact]
    public Task WriteAsync_ArbitraryBinaryMessage_GetReturnsSameBytes() => WithStorageAsync(async storage =>
    {
        var bytes = new List<byte>();
        bytes.AddRange("Subject: binary\r\n\r\n"u8.ToArray());
        for (int i = 0; i < 256; i++)
        {
            bytes.Add((byte)i);
        }
        bytes.AddRange("\rCR alone\nLF alone\n\r\r\n\0"u8.ToArray());
        bytes.Add(0xC3); // a truncated UTF-8 sequence at the very end
        var envelope = new Envelope("a@example.com", ["b@example.com"], new RawMessage(bytes.ToArray())) { Id = NewId() };
        foreach (var stored in await WriteThenGetTwiceAsync(storage, envelope, SampleTime))
        {
            Assert.NotNull(stored);
            Assert.Equal(bytes.ToArray(), stored.Envelope.Message.Bytes.ToArray());
        }
    });

    /// <summary>A message of 1 MiB of pseudo-random bytes is stored exactly.</summary>
    [Fact]
    public Task WriteAsync_LargeRandomMessage_GetReturnsSameBytes() => WithStorageAsync(async storage =>
    {
        var bytes = new byte[1 << 20];
        new Random(5321).NextBytes(bytes);
        var envelope = new Envelope("a@example.com", ["b@example.com"], new RawMessage(bytes)) { Id = NewId() };
        foreach (var stored in await WriteThenGetTwiceAsync(storage, envelope, SampleTime))
        {
            Assert.NotNull(stored);
            Assert.True(bytes.AsSpan().SequenceEqual(stored.Envelope.Message.Bytes.Span));
        }
    });

    /// <summary>Changing the written envelope afterwards does not change what is stored.</summary>
    [Fact]
    public Task WriteAsync_CallerMutatesEnvelopeAfterwards_StoredCopyUnchanged() => WithStorageAsync(async storage =>
    {
        var id = NewId();
        var envelope = FullEnvelope(id);
        await storage.WriteAsync(id, envelope, SampleTime, Ct);
        envelope.Recipients.Add("late@example.com");
        envelope.Sender = "changed@example.com";
        envelope.Message = RawMessage.FromString("Subject: changed\r\n\r\n");
        var stored = await storage.GetAsync(id, Ct);
        Assert.NotNull(stored);
        AssertSameEnvelope(FullEnvelope(id), stored.Envelope);
    });

    /// <summary>A message returned by Get is a snapshot: later updates and changes to it do not affect each other.</summary>
    [Fact]
    public Task GetAsync_LaterUpdates_DoNotChangeEarlierSnapshot() => WithStorageAsync(async storage =>
    {
        var id = NewId();
        await storage.WriteAsync(id, FullEnvelope(id), SampleTime, Ct);
        var before = await storage.GetAsync(id, Ct);
        Assert.NotNull(before);
        await storage.IncrementAttemptsAsync(id, Ct);
        await storage.SetNextAttemptAsync(id, SampleTime.AddHours(1), Ct);
        await storage.SetRecipientsDeliveredAsync(id, [1], Ct);
        Assert.Equal(0, before.Attempts);
        Assert.Equal(SampleTime, before.NextAttempt);
        Assert.Empty(before.Delivered);

        before.Envelope.Recipients.Clear();
        before.Envelope.Sender = "changed@example.com";
        var after = await storage.GetAsync(id, Ct);
        Assert.NotNull(after);
        AssertSameEnvelope(FullEnvelope(id), after.Envelope);
    });

    /// <summary>Get of an id that was never written is null.</summary>
    [Fact]
    public Task GetAsync_MissingId_ReturnsNull() => WithStorageAsync(async storage =>
    {
        Assert.Null(await storage.GetAsync(NewId(), Ct));
        var present = NewId();
        await storage.WriteAsync(present, MinimalEnvelope(present), SampleTime, Ct);
        Assert.Null(await storage.GetAsync(NewId(), Ct));
        Assert.NotNull(await storage.GetAsync(present, Ct));
    });

    /// <summary>SetNextAttempt changes the time Get and LoadAll report, and only for that message.</summary>
    [Fact]
    public Task SetNextAttemptAsync_NewTime_GetAndLoadAllReportIt() => WithStorageAsync(async storage =>
    {
        string a = NewId(), b = NewId();
        await storage.WriteAsync(a, MinimalEnvelope(a), SampleTime, Ct);
        await storage.WriteAsync(b, MinimalEnvelope(b), SampleTime, Ct);
        var later = SampleTime.AddSeconds(300).ToOffset(TimeSpan.FromHours(9));
        await storage.SetNextAttemptAsync(a, later, Ct);
        await storage.SetNextAttemptAsync(a, later.AddMilliseconds(1), Ct);

        var reopened = await ReopenTrackedAsync(storage);
        var stored = await reopened.GetAsync(a, Ct);
        Assert.NotNull(stored);
        Assert.Equal(later.AddMilliseconds(1), stored.NextAttempt);
        var all = (await LoadAllAsync(reopened)).ToDictionary(m => m.Id, m => m.NextAttempt);
        Assert.Equal(later.AddMilliseconds(1), all[a]);
        Assert.Equal(SampleTime, all[b]);
    });

    /// <summary>IncrementAttempts counts from 0 and returns the new count each time.</summary>
    [Fact]
    public Task IncrementAttemptsAsync_ThreeTimes_ReturnsOneTwoThree() => WithStorageAsync(async storage =>
    {
        var id = NewId();
        await storage.WriteAsync(id, MinimalEnvelope(id), SampleTime, Ct);
        Assert.Equal(1, await storage.IncrementAttemptsAsync(id, Ct));
        Assert.Equal(2, await storage.IncrementAttemptsAsync(id, Ct));
        Assert.Equal(3, await storage.IncrementAttemptsAsync(id, Ct));
        var stored = await (await ReopenTrackedAsync(storage)).GetAsync(id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(3, stored.Attempts);
    });

    /// <summary>Delivered indexes accumulate across calls and keep the original recipient list.</summary>
    [Fact]
    public Task SetRecipientsDeliveredAsync_TwoCalls_DeliveredIsUnion() => WithStorageAsync(async storage =>
    {
        var id = NewId();
        await storage.WriteAsync(id, FullEnvelope(id), SampleTime, Ct);
        await storage.SetRecipientsDeliveredAsync(id, [2], Ct);
        await storage.SetRecipientsDeliveredAsync(id, [0], Ct);
        await storage.SetRecipientsDeliveredAsync(id, [0, 2], Ct);
        var stored = await (await ReopenTrackedAsync(storage)).GetAsync(id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(new SortedSet<int> { 0, 2 }, new SortedSet<int>(stored.Delivered));
        // The recipient list stays the original one: indexes refer to it.
        Assert.Equal(FullEnvelope(id).Recipients, stored.Envelope.Recipients);
    });

    /// <summary>An empty delivered set changes nothing.</summary>
    [Fact]
    public Task SetRecipientsDeliveredAsync_Empty_DeliveredStaysEmpty() => WithStorageAsync(async storage =>
    {
        var id = NewId();
        await storage.WriteAsync(id, FullEnvelope(id), SampleTime, Ct);
        await storage.SetRecipientsDeliveredAsync(id, [], Ct);
        var stored = await storage.GetAsync(id, Ct);
        Assert.NotNull(stored);
        Assert.Empty(stored.Delivered);
    });

    /// <summary>LoadAll lists every stored message once with its next attempt time.</summary>
    [Fact]
    public Task LoadAllAsync_SeveralMessages_ListsEachOnceWithTime() => WithStorageAsync(async storage =>
    {
        Assert.Empty(await LoadAllAsync(storage));
        var expected = new Dictionary<string, DateTimeOffset>();
        for (int i = 0; i < 5; i++)
        {
            var id = NewId();
            expected[id] = SampleTime.AddSeconds(i * 17);
            await storage.WriteAsync(id, i % 2 == 0 ? FullEnvelope(id) : MinimalEnvelope(id), expected[id], Ct);
        }
        var all = await LoadAllAsync(await ReopenTrackedAsync(storage));
        Assert.Equal(expected.Count, all.Count);
        Assert.Equal(expected.Keys.Order(), all.Select(m => m.Id).Order());
        foreach (var message in all)
        {
            Assert.Equal(expected[message.Id], message.NextAttempt);
        }
    });

    /// <summary>Remove deletes the message: Get is null and LoadAll no longer lists it; others stay.</summary>
    [Fact]
    public Task RemoveAsync_StoredId_GoneFromGetAndLoadAll() => WithStorageAsync(async storage =>
    {
        string gone = NewId(), kept = NewId();
        await storage.WriteAsync(gone, FullEnvelope(gone), SampleTime, Ct);
        await storage.WriteAsync(kept, FullEnvelope(kept), SampleTime, Ct);
        await storage.IncrementAttemptsAsync(gone, Ct);
        await storage.SetRecipientsDeliveredAsync(gone, [1], Ct);
        await storage.RemoveAsync(gone, Ct);

        var reopened = await ReopenTrackedAsync(storage);
        Assert.Null(await reopened.GetAsync(gone, Ct));
        Assert.NotNull(await reopened.GetAsync(kept, Ct));
        Assert.Equal([kept], (await LoadAllAsync(reopened)).Select(m => m.Id));
    });

    /// <summary>Removing an id that does not exist (never written, or removed twice) is not an error.</summary>
    [Fact]
    public Task RemoveAsync_MissingId_DoesNotThrow() => WithStorageAsync(async storage =>
    {
        await storage.RemoveAsync(NewId(), Ct);
        var id = NewId();
        await storage.WriteAsync(id, MinimalEnvelope(id), SampleTime, Ct);
        await storage.RemoveAsync(id, Ct);
        await storage.RemoveAsync(id, Ct);
        Assert.Null(await storage.GetAsync(id, Ct));
        Assert.Empty(await LoadAllAsync(storage));
    });

    /// <summary>Many concurrent writers each get their message stored intact.</summary>
    [Fact]
    public Task WriteAsync_ConcurrentWriters_EveryMessageStoredIntact() => WithStorageAsync(async storage =>
    {
        const int writers = 64;
        var ids = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            var id = NewId();
            var envelope = new Envelope($"s{i}@example.com", [$"r{i}@example.com"], RawMessage.FromString($"Subject: {i}\r\n\r\n{new string('x', i * 100)}\r\n")) { Id = id };
            await storage.WriteAsync(id, envelope, SampleTime.AddSeconds(i), Ct);
            ids.Add(id);
        })));

        var reopened = await ReopenTrackedAsync(storage);
        var all = (await LoadAllAsync(reopened)).ToDictionary(m => m.Id, m => m.NextAttempt);
        Assert.Equal(writers, all.Count);
        foreach (var id in ids)
        {
            var stored = await reopened.GetAsync(id, Ct);
            Assert.NotNull(stored);
            int i = int.Parse(stored.Envelope.Sender[1..stored.Envelope.Sender.IndexOf('@')], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal([$"r{i}@example.com"], stored.Envelope.Recipients);
            Assert.Equal($"Subject: {i}\r\n\r\n{new string('x', i * 100)}\r\n", System.Text.Encoding.UTF8.GetString(stored.Envelope.Message.Bytes.Span));
            Assert.Equal(SampleTime.AddSeconds(i), all[id]);
        }
    });

    /// <summary>Concurrent increments of one message lose no update.</summary>
    [Fact]
    public Task IncrementAttemptsAsync_Concurrent_NoLostUpdate() => WithStorageAsync(async storage =>
    {
        const int callers = 32;
        var id = NewId();
        await storage.WriteAsync(id, MinimalEnvelope(id), SampleTime, Ct);
        var results = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () => await storage.IncrementAttemptsAsync(id, Ct))));
        Assert.Equal(Enumerable.Range(1, callers), results.Order());
        var stored = await storage.GetAsync(id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(callers, stored.Attempts);
    });

    /// <summary>Concurrent delivered updates of one message lose no index.</summary>
    [Fact]
    public Task SetRecipientsDeliveredAsync_Concurrent_NoLostIndex() => WithStorageAsync(async storage =>
    {
        const int recipients = 24;
        var id = NewId();
        var envelope = new Envelope("a@example.com", Enumerable.Range(0, recipients).Select(i => $"r{i}@example.com"), RawMessage.FromString("\r\n")) { Id = id };
        await storage.WriteAsync(id, envelope, SampleTime, Ct);
        await Task.WhenAll(Enumerable.Range(0, recipients).Select(i => Task.Run(async () => await storage.SetRecipientsDeliveredAsync(id, [i], Ct))));
        var stored = await storage.GetAsync(id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(Enumerable.Range(0, recipients), stored.Delivered.Order());
    });
}
