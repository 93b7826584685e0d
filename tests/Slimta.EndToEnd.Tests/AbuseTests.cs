using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Slimta.Host.Edge;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// Protocol abuse against the whole server: huge lines, random bytes, silent clients and a
/// thousand connections at once must leave memory bounded and the next client served.
/// </summary>
public sealed class AbuseTests
{
    private const long MemoryBound = 96L * 1024 * 1024;

    private static Task<ServerHarness> StartAsync(string extra = "") => ServerHarness.StartAsync($$$"""
        process: {slimta: {}}
        edge:
          inbound:
            type: smtp
            queue: main
            listener: {interface: 127.0.0.1, port: 0}
            max_size: 1048576
            max_connections: 1100
            max_errors: 10
            command_timeout: 2
        {{{extra}}}
        queue:
          main: {type: memory, relay: drop}
        relay:
          drop: {type: blackhole}
        """);

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task AssertServedAsync(int port)
    {
        await using var client = await RawSmtp.ConnectAsync(port);
        Assert.StartsWith("220 ", await client.ReplyAsync());
        Assert.StartsWith("250 ", await client.CommandAsync("EHLO next.test"));
        Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<a@client.test>"));
        Assert.StartsWith("250 ", await client.CommandAsync("RCPT TO:<b@remote.test>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        Assert.StartsWith("250 2.6.0", await client.CommandAsync("Subject: next\r\n\r\nok\r\n."));
    }

    private static async Task SendIgnoringResetAsync(Socket socket, byte[] bytes)
    {
        try
        {
            for (int offset = 0; offset < bytes.Length; offset += 65536)
            {
                await socket.SendAsync(bytes.AsMemory(offset, Math.Min(65536, bytes.Length - offset)), SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // The server may close while we are still sending: that is a valid answer to abuse.
        }
    }

    [Fact]
    public async Task Session_OneMegabyteLines_Get500AndMemoryStaysBounded()
    {
        await using var server = await StartAsync();
        long before = ManagedMemory();
        await using (var client = await RawSmtp.ConnectAsync(server.PortOf()))
        {
            Assert.StartsWith("220 ", await client.ReplyAsync());
            for (int i = 0; i < 5; i++)
            {
                await client.SendAsync(Encoding.ASCII.GetBytes(new string('A', 1024 * 1024) + "\r\n"));
                Assert.StartsWith("500 5.5.2", await client.ReplyAsync());
            }
            Assert.StartsWith("250 ", await client.CommandAsync("NOOP"));
        }
        Assert.True(ManagedMemory() - before < MemoryBound, "a 1 MB command line must not be buffered");
        await AssertServedAsync(server.PortOf());
    }

    [Fact]
    public async Task Session_RandomBytes_ClosedAfterMaxErrorsAndNextClientServed()
    {
        await using var server = await StartAsync();
        long before = ManagedMemory();
        var random = new Random(5321);
        for (int round = 0; round < 3; round++)
        {
            var bytes = new byte[1024 * 1024];
            random.NextBytes(bytes);
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync("127.0.0.1", server.PortOf());
            await SendIgnoringResetAsync(socket, bytes);
            // Read whatever comes back until the server closes (max_errors or the timeout).
            var buffer = new byte[65536];
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var received = new StringBuilder();
            try
            {
                int n;
                while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
                {
                    received.Append(Encoding.Latin1.GetString(buffer, 0, n));
                }
            }
            catch (SocketException)
            {
                // Reset after close: also closed.
            }
            Assert.StartsWith("220 ", received.ToString());
        }
        Assert.True(ManagedMemory() - before < MemoryBound, "random input must not grow memory");
        await AssertServedAsync(server.PortOf());
    }

    [Fact]
    public async Task Session_SlowAndSilentClients_TimeOutWhileOthersAreServed()
    {
        await using var server = await StartAsync();
        await using var silent = await RawSmtp.ConnectAsync(server.PortOf());
        Assert.StartsWith("220 ", await silent.ReplyAsync());
        await using var slow = await RawSmtp.ConnectAsync(server.PortOf());
        Assert.StartsWith("220 ", await slow.ReplyAsync());
        await slow.SendAsync("EHLO sl");
        var stopwatch = Stopwatch.StartNew();
        await AssertServedAsync(server.PortOf());
        Assert.StartsWith("421 4.4.2", await silent.ReplyAsync());
        Assert.StartsWith("421 4.4.2", await slow.ReplyAsync());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"timed out after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Session_ClientTricklingBytes_CutOffAtCommandTimeout()
    {
        await using var server = await StartAsync();
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", server.PortOf());
        var stopwatch = Stopwatch.StartNew();
        var buffer = new byte[4096];
        var received = new StringBuilder();
        // One byte every 300 ms: each read is well inside command_timeout (2 s), the command never is.
        for (int i = 0; i < 40 && !received.ToString().Contains("421", StringComparison.Ordinal); i++)
        {
            try
            {
                await socket.SendAsync("X"u8.ToArray(), SocketFlags.None);
            }
            catch (SocketException)
            {
                break;
            }
            await Task.Delay(300);
            while (socket.Available > 0)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                received.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        Assert.Contains("421 4.4.2", received.ToString());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(6), $"cut off after {stopwatch.Elapsed}");
        await AssertServedAsync(server.PortOf());
    }

    [Fact]
    public async Task Accept_ThousandConcurrentConnections_AllGreetedMemoryBoundedNextServed()
    {
        await using var server = await StartAsync();
        var edge = (SmtpEdge)server.Server.Edges["inbound"];
        long before = ManagedMemory();
        var sockets = new Socket[1000];
        var stopwatch = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(100);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, sockets.Length).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                    sockets[i] = socket;
                    await socket.ConnectAsync("127.0.0.1", server.PortOf());
                    var buffer = new byte[256];
                    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                    int n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                    Assert.StartsWith("220 ", Encoding.ASCII.GetString(buffer, 0, n));
                }
                finally
                {
                    gate.Release();
                }
            }));
            Assert.Equal(1000, edge.ActiveConnections);
            long grown = ManagedMemory() - before;
            Assert.True(grown < MemoryBound, $"1000 idle sessions grew managed memory by {grown / 1024 / 1024} MB");
            // The 1001st client is still served.
            await AssertServedAsync(server.PortOf());
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        var settle = Stopwatch.StartNew();
        while (edge.ActiveConnections > 0 && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, edge.ActiveConnections);
    }
}
