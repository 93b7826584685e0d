using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Time.Testing;
using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>The test SQS server behaves as SQS does toward AWSSDK.SQS 4 (JSON protocol): visibility, long polling, errors.</summary>
public sealed class SqsServerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private SqsServer? _server;
    private AmazonSQSClient? _client;
    private string _url = "";

    public async Task InitializeAsync()
    {
        _server = SqsServer.Start(_time);
        _client = new AmazonSQSClient(new BasicAWSCredentials("id", "secret"), new AmazonSQSConfig { ServiceURL = _server.Url.ToString(), AuthenticationRegion = "us-west-2", MaxErrorRetry = 0 });
        _url = (await _client.CreateQueueAsync("q")).QueueUrl;
    }

    public async Task DisposeAsync()
    {
        _client!.Dispose();
        await _server!.DisposeAsync();
    }

    private async Task<List<Message>> ReceiveAsync(int visibility = 30, int wait = 0) =>
        (await _client!.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = _url, MaxNumberOfMessages = 10, VisibilityTimeout = visibility, WaitTimeSeconds = wait })).Messages ?? [];

    [Fact]
    public async Task ReceiveMessage_Received_HiddenUntilVisibilityTimeoutThenBack()
    {
        await _client!.SendMessageAsync(_url, "one");

        var first = await ReceiveAsync(visibility: 30);
        var hidden = await ReceiveAsync();
        _time.Advance(TimeSpan.FromSeconds(31));
        var back = await ReceiveAsync();

        Assert.Equal("one", Assert.Single(first).Body);
        Assert.Empty(hidden);
        Assert.Equal(first[0].MessageId, Assert.Single(back).MessageId);
        Assert.NotEqual(first[0].ReceiptHandle, back[0].ReceiptHandle);
    }

    [Fact]
    public async Task SendMessage_DelaySeconds_InvisibleUntilDelayOver()
    {
        await _client!.SendMessageAsync(new SendMessageRequest { QueueUrl = _url, MessageBody = "later", DelaySeconds = 60 });

        var early = await ReceiveAsync();
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.Empty(early);
        Assert.Single(await ReceiveAsync());
    }

    [Fact]
    public async Task ReceiveMessage_LongPoll_ReturnsWhenMessageArrives()
    {
        var polling = ReceiveAsync(wait: 10);
        await Task.Delay(200);
        var started = DateTime.UtcNow;
        await _client!.SendMessageAsync(_url, "wake");

        var received = await polling;

        Assert.Equal("wake", Assert.Single(received).Body);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ChangeMessageVisibility_OutdatedReceipt_InvalidParameterValue()
    {
        await _client!.SendMessageAsync(_url, "x");
        var old = Assert.Single(await ReceiveAsync(visibility: 1)).ReceiptHandle;
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Single(await ReceiveAsync());

        var e = await Assert.ThrowsAnyAsync<AmazonSQSException>(() => _client.ChangeMessageVisibilityAsync(_url, old, 10));

        Assert.Contains("InvalidParameterValue", e.ErrorCode, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangeMessageVisibility_BeyondTwelveHoursAfterReceipt_Refused()
    {
        await _client!.SendMessageAsync(_url, "x");
        var handle = Assert.Single(await ReceiveAsync(visibility: 7200)).ReceiptHandle;
        _time.Advance(TimeSpan.FromHours(1));

        await Assert.ThrowsAnyAsync<AmazonSQSException>(() => _client.ChangeMessageVisibilityAsync(_url, handle, 43200));
        await _client.ChangeMessageVisibilityAsync(_url, handle, 39600);
    }

    [Fact]
    public async Task ChangeMessageVisibility_VisibilityOver_MessageNotInflight()
    {
        await _client!.SendMessageAsync(_url, "x");
        var handle = Assert.Single(await ReceiveAsync(visibility: 1)).ReceiptHandle;
        _time.Advance(TimeSpan.FromSeconds(2));

        await Assert.ThrowsAsync<MessageNotInflightException>(() => _client.ChangeMessageVisibilityAsync(_url, handle, 10));
    }

    [Fact]
    public async Task DeleteMessage_CurrentReceipt_GoneForGood()
    {
        await _client!.SendMessageAsync(_url, "x");
        var handle = Assert.Single(await ReceiveAsync(visibility: 1)).ReceiptHandle;

        await _client.DeleteMessageAsync(_url, handle);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Empty(await ReceiveAsync());
    }

    [Fact]
    public async Task GetQueueUrl_MissingQueue_QueueDoesNotExist()
    {
        await Assert.ThrowsAsync<QueueDoesNotExistException>(() => _client!.GetQueueUrlAsync("missing"));
    }

    [Fact]
    public async Task ReceiveMessage_MaxNumberOfMessages_AtMostThatMany()
    {
        for (int i = 0; i < 12; i++)
        {
            await _client!.SendMessageAsync(_url, "m" + i);
        }

        var batch = await _client!.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = _url, MaxNumberOfMessages = 5 });

        Assert.Equal(5, batch.Messages.Count);
        Assert.Equal((7, 5, 0), _server!.Counts("q"));
    }
}
