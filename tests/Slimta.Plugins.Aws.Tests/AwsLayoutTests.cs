using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>The objects in the bucket are as docs/operations.md ("S3 and SQS layout") describes them.</summary>
[Collection(AwsCollection.Name)]
public sealed class AwsLayoutTests(AwsFixture aws)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task WriteAndUpdate_Objects_MatchDocumentedLayout()
    {
        var prefix = AwsFixture.NewPrefix("layout");
        var queue = aws.NewQueue();
        await using var storage = aws.CreateShared(TimeProvider.System, prefix, queue);
        var id = Guid.NewGuid().ToString("N");
        var next = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_123_456);
        var bytes = "Subject: layout\r\n\r\nbody\r\n"u8.ToArray();
        await storage.WriteAsync(id, new Envelope("a@example.org", ["b@example.com", "c@example.com"], new RawMessage(bytes)), next, Ct);
        using var s3 = aws.S3Client();

        using (var message = await s3.GetObjectAsync(AwsFixture.Bucket, prefix + id))
        {
            using var buffer = new MemoryStream();
            await message.ResponseStream.CopyToAsync(buffer);
            var body = buffer.ToArray();
            int newline = Array.IndexOf(body, (byte)'\n');
            var envelope = JsonDocument.Parse(body.AsMemory(0, newline)).RootElement;
            Assert.Equal(1, envelope.GetProperty("v").GetInt32());
            Assert.Equal("a@example.org", envelope.GetProperty("sender").GetString());
            Assert.Equal(["b@example.com", "c@example.com"], envelope.GetProperty("rcpts").EnumerateArray().Select(r => r.GetString()));
            Assert.Equal(bytes, body[(newline + 1)..]);
            Assert.Equal("1", message.Metadata["slimta-layout"]);
            Assert.Equal("1800000123456", message.Metadata["next-ms"]);
            Assert.False(string.IsNullOrEmpty(message.Metadata["notice"]));
        }
        await Assert.ThrowsAsync<Amazon.S3.AmazonS3Exception>(() => s3.GetObjectMetadataAsync(AwsFixture.Bucket, prefix + id + ".state"));

        await storage.IncrementAttemptsAsync(id, Ct);
        await storage.SetRecipientsDeliveredAsync(id, [1], Ct);
        using (var state = await s3.GetObjectAsync(AwsFixture.Bucket, prefix + id + ".state"))
        {
            using var reader = new StreamReader(state.ResponseStream, Encoding.UTF8);
            var doc = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement;
            Assert.Equal(1, doc.GetProperty("v").GetInt32());
            Assert.Equal(1, doc.GetProperty("attempts").GetInt32());
            Assert.Equal(1_800_000_123_456, doc.GetProperty("next_ms").GetInt64());
            Assert.Equal([1], doc.GetProperty("delivered").EnumerateArray().Select(d => d.GetInt32()));
            Assert.False(string.IsNullOrEmpty(doc.GetProperty("notice").GetString()));
        }

        await storage.RemoveAsync(id, Ct);
        var left = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = AwsFixture.Bucket, Prefix = prefix });
        Assert.Empty(left.S3Objects ?? []);
    }
}
