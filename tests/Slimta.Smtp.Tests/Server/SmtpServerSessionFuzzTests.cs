using Slimta.Smtp.Server;

namespace Slimta.Smtp.Tests.Server;

public class SmtpServerSessionFuzzTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task RunAsync_RandomCommandLines_ExactlyOneReplyEachAndSessionSurvives(int seed)
    {
        var random = new Random(seed);
        await using var h = new SessionHarness(new SmtpServerOptions { Hostname = "mx.test", MaxErrors = 100_000 });
        var input = new List<byte>();
        const int lines = 300;
        for (int i = 0; i < lines; i++)
        {
            int length = random.Next(10) == 0 ? random.Next(513, 5000) : random.Next(0, 80);
            for (int j = 0; j < length; j++)
            {
                byte b;
                do
                {
                    b = (byte)random.Next(256);
                }
                while (b == (byte)'\n');
                input.Add(b);
            }
            input.AddRange("\r\n"u8.ToArray());
        }
        input.AddRange("QUIT\r\n"u8.ToArray());
        // Random chunking, so lines are split at arbitrary points.
        var bytes = input.ToArray();
        for (int pos = 0; pos < bytes.Length;)
        {
            int n = Math.Min(random.Next(1, 700), bytes.Length - pos);
            await h.SendAsync(bytes[pos..(pos + n)]);
            pos += n;
        }
        var replies = await h.ReadAllRepliesAsync();
        Assert.Equal(lines + 2, replies.Count);
        Assert.StartsWith("221", replies[^1]);
    }
}
