using System.Text;

namespace Slimta.Host.Tests.Edge;

public class SmtpEdgeAuthTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static readonly string AlicePlain = B64("\0alice\0s3cret pass");

    internal static Dictionary<string, object?> Credentials(bool plaintext = false) => new()
    {
        ["lookup_credentials"] = new Dictionary<string, object?>
        {
            ["type"] = "config",
            ["map"] = new Dictionary<string, object?> { ["alice"] = PasswordHashTests.AlicePbkdf2, ["bob"] = PasswordHashTests.BobSha512Crypt },
        },
        ["auth_plaintext"] = plaintext ? "true" : "false",
    };

    private static Task<EdgeFixture> StartAsync() =>
        EdgeFixture.StartAsync(new() { ["tls"] = SmtpEdgeTlsTests.Tls, ["rules"] = Credentials() });

    private static async Task<RawSmtpClient> SecureAsync(EdgeFixture edge)
    {
        var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\nSTARTTLS\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("220 2.0.0");
        await client.StartTlsAsync();
        await client.SendAsync("EHLO client.test\r\n");
        Assert.Contains("AUTH PLAIN LOGIN", await client.ExpectAsync("250-"));
        return client;
    }

    [Fact]
    public async Task Auth_BeforeTls_Is538AndNotAdvertised()
    {
        await using var edge = await StartAsync();
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\n");
        Assert.DoesNotContain("AUTH", await client.ExpectAsync("250-"));
        await client.SendAsync($"AUTH PLAIN {AlicePlain}\r\n");
        await client.ExpectAsync("538 5.7.11");
    }

    [Fact]
    public async Task Auth_PlainWithInitialResponse_Is235AndEnvelopeRecordsUserAndProtocol()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync("MAIL FROM:<a@client.test>\r\n");
        await client.ExpectAsync("530 5.7.0");
        await client.SendAsync($"AUTH PLAIN {AlicePlain}\r\n");
        await client.ExpectAsync("235 2.7.0");
        await client.SendAsync("EHLO client.test\r\n");
        Assert.DoesNotContain("AUTH", await client.ExpectAsync("250"));
        await client.SendAsync("MAIL FROM:<a@client.test>\r\nRCPT TO:<b@remote.test>\r\nDATA\r\n");
        await client.ExpectAsync("250 2.1.0");
        await client.ExpectAsync("250 2.1.5");
        await client.ExpectAsync("354");
        await client.SendAsync("Subject: x\r\n\r\nbody\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0");
        var envelope = Assert.Single(edge.Queue.Envelopes);
        Assert.Equal("alice", envelope.Client.AuthenticatedUser);
        Assert.Equal("ESMTPSA", envelope.Client.Protocol);
        Assert.DoesNotContain(edge.Logs.Lines, m => m.Contains("s3cret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Auth_PlainWithoutInitialResponse_UsesEmptyChallenge()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync("AUTH PLAIN\r\n");
        Assert.Equal("334 ", await client.ReadReplyAsync());
        await client.SendAsync(AlicePlain + "\r\n");
        await client.ExpectAsync("235 2.7.0");
    }

    [Fact]
    public async Task Auth_LoginWithSha512CryptUser_Is235()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync("AUTH LOGIN\r\n");
        Assert.Equal("334 VXNlcm5hbWU6", await client.ReadReplyAsync());
        await client.SendAsync(B64("bob") + "\r\n");
        Assert.Equal("334 UGFzc3dvcmQ6", await client.ReadReplyAsync());
        await client.SendAsync(B64("Hello world!") + "\r\n");
        await client.ExpectAsync("235 2.7.0");
    }

    [Fact]
    public async Task Auth_LoginWithInitialResponse_AsksForPasswordOnly()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync($"AUTH LOGIN {B64("alice")}\r\n");
        Assert.Equal("334 UGFzc3dvcmQ6", await client.ReadReplyAsync());
        await client.SendAsync(B64("wrong") + "\r\n");
        await client.ExpectAsync("535 5.7.8");
    }

    [Theory]
    [InlineData("\0alice\0wrong")]
    [InlineData("\0mallory\0s3cret pass")]
    [InlineData("bob\0alice\0s3cret pass")]
    [InlineData("\0\0s3cret pass")]
    public async Task Auth_BadCredentials_Is535(string plain)
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync($"AUTH PLAIN {B64(plain)}\r\nMAIL FROM:<a@client.test>\r\n");
        await client.ExpectAsync("535 5.7.8");
        await client.ExpectAsync("530 5.7.0");
    }

    [Fact]
    public async Task Auth_StarCancels_Is501()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync("AUTH LOGIN\r\n");
        await client.ExpectAsync("334 ");
        await client.SendAsync("*\r\n");
        await client.ExpectAsync("501 ");
        await client.SendAsync("NOOP\r\n");
        await client.ExpectAsync("250 ");
    }

    [Fact]
    public async Task Auth_BadBase64_Is501()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync("AUTH PLAIN !!notbase64!!\r\n");
        await client.ExpectAsync("501 ");
    }

    [Fact]
    public async Task Auth_UnknownMechanism_Is504()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync("AUTH CRAM-MD5\r\n");
        await client.ExpectAsync("504 ");
    }

    [Fact]
    public async Task Auth_Twice_Is503()
    {
        await using var edge = await StartAsync();
        await using var client = await SecureAsync(edge);
        await client.SendAsync($"AUTH PLAIN {AlicePlain}\r\nAUTH PLAIN {AlicePlain}\r\n");
        await client.ExpectAsync("235 ");
        await client.ExpectAsync("503 ");
    }

    [Fact]
    public async Task Auth_DuringTransaction_Is503()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["rules"] = Credentials(plaintext: true) });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\n");
        Assert.Contains("AUTH PLAIN LOGIN", await client.ExpectAsync("250-"));
        await client.SendAsync($"AUTH PLAIN {AlicePlain}\r\nMAIL FROM:<a@client.test>\r\nAUTH PLAIN {AlicePlain}\r\n");
        await client.ExpectAsync("235 ");
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("503 ");
    }

    [Fact]
    public async Task Auth_PlaintextAllowed_WorksWithoutTlsAndRecordsEsmtpa()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["rules"] = Credentials(plaintext: true) });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync($"EHLO client.test\r\nAUTH PLAIN {AlicePlain}\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@remote.test>\r\nDATA\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("235 ");
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("354");
        await client.SendAsync("Subject: x\r\n\r\nbody\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0");
        Assert.Equal("ESMTPA", Assert.Single(edge.Queue.Envelopes).Client.Protocol);
    }

    [Fact]
    public async Task Auth_RepeatedFailures_CloseTheSessionAtMaxErrors()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["max_errors"] = 3, ["rules"] = Credentials(plaintext: true) });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        var guess = $"AUTH PLAIN {B64("\0alice\0guess")}\r\n";
        await client.SendAsync("EHLO client.test\r\n" + guess + guess + guess);
        await client.ExpectAsync("250-");
        await client.ExpectAsync("535 ");
        await client.ExpectAsync("535 ");
        await client.ExpectAsync("421 ");
        Assert.True(await client.IsClosedAsync());
    }
}
