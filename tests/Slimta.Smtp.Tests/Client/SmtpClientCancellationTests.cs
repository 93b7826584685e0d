using System.Text;
using Slimta.Smtp.Client;

namespace Slimta.Smtp.Tests.Client;

/// <summary>Cancellation in the middle of a transaction: the session must never be reused afterwards.</summary>
public sealed class SmtpClientCancellationTests
{
    private static async Task<(SmtpClient Client, ScriptedServerStream Stream)> OpenAsync()
    {
        var stream = new ScriptedServerStream("220 mx.test ESMTP\r\n")
        {
            Respond = s => s.StartsWith("EHLO", StringComparison.Ordinal) ? "250-mx.test\r\n250 PIPELINING\r\n"
                : s.EndsWith("DATA\r\n", StringComparison.Ordinal) ? "250 ok\r\n250 ok\r\n354 go\r\n"
                : null,
        };
        var client = new SmtpClient(stream, new SmtpClientOptions { EhloName = "client.test" });
        await client.ReadGreetingAsync(CancellationToken.None);
        await client.EhloAsync(CancellationToken.None);
        return (client, stream);
    }

    [Fact]
    public async Task SendMessageAsync_CanceledBetweenGroupAndReplies_SessionBroken()
    {
        var (client, stream) = await OpenAsync();
        await using var _ = client;
        using var cts = new CancellationTokenSource();
        // Canceled right after the pipelined group went out, before its replies are read: the
        // server now waits in DATA with replies unread, so reusing the session would make the next
        // message the body of this transaction.
        stream.OnFlush = last =>
        {
            if (last.EndsWith("DATA\r\n", StringComparison.Ordinal))
            {
                cts.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => client.SendMessageAsync("first@x.test", ["r@x.test"], Encoding.ASCII.GetBytes("first\r\n"), false, cts.Token));

        Assert.True(client.IsBroken);
        // A pooled session would be closed; used anyway, it refuses before writing anything.
        var writes = new List<string>();
        stream.Respond = s =>
        {
            writes.Add(s);
            return null;
        };
        await Assert.ThrowsAnyAsync<IOException>(
            () => client.SendMessageAsync("second@x.test", ["o@y.test"], Encoding.ASCII.GetBytes("second\r\n"), false, resetFirst: true, CancellationToken.None));
        Assert.Empty(writes);
    }

    [Fact]
    public async Task DisposeAsync_DuringRead_CallersCancelDoesNotThrow()
    {
        var (client, _) = await OpenAsync();
        using var cts = new CancellationTokenSource();
        var pending = client.NoopAsync(cts.Token);   // no reply is ever scripted for NOOP

        await client.DisposeAsync();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<Exception>(() => pending);
    }
}
