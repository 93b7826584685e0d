using System.Text.Json.Nodes;
using Slimta.Host.Cli;

namespace Slimta.Host.Tests.Cli;

/// <summary><c>slimta queue show/list</c> print what remote clients sent: never raw control characters.</summary>
public sealed class QueueOutputEscapingTests
{
    private static JsonObject Message() => new()
    {
        ["type"] = "message",
        ["queue"] = "q",
        ["id"] = "0123456789abcdef0123456789abcdef",
        ["state"] = "queued",
        ["received_at"] = "2026-11-29T00:35:34Z",
        ["next_attempt"] = "2026-11-29T00:40:34Z",
        ["attempts"] = 1,
        ["size"] = 48,
        ["sender"] = "a\u001b[2J@c.test",
        ["recipients"] = new JsonArray("s\u0007@r.test", "\"q\\\"uo\"@r.test"),
        ["delivered"] = new JsonArray(),
        ["client"] = new JsonObject { ["address"] = "127.0.0.1", ["port"] = 1, ["ehlo"] = "evil\u001b]0;pwned\u0007", ["protocol"] = "ESMTP" },
        ["headers"] = new JsonArray(
            new JsonArray("Subject", "hi \u001b[31mRED\u001b[0m\b\b"),
            new JsonArray("To", "a@b.test,\r\n\tc@d.test\u2028x")),
    };

    private static string Render(string command)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var renderer = new QueueOutput(output, errors, json: false, progress: false, command, "slimta");
        renderer.Write(Message());
        renderer.Write(new JsonObject { ["type"] = "ok", ["message"] = "1 message", ["count"] = 1 });
        return output.ToString();
    }

    [Theory]
    [InlineData("show")]
    [InlineData("list")]
    public void Write_ControlCharactersFromClients_AreShownEscaped(string command)
    {
        var text = Render(command).Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal);
        Assert.DoesNotContain(text, c => char.IsControl(c) && c != '\t');
        Assert.DoesNotContain('\u2028', text);
        Assert.Contains(@"<a\x1b[2J@c.test>", text);
        Assert.Contains(@"<s\x07@r.test>", text);
        // Printable characters, backslashes of quoted local parts included, are left as they are.
        Assert.Contains("<\"q\\\"uo\"@r.test>", text);
    }

    [Fact]
    public void Write_Show_EscapesEhloAndHeadersAndUnfoldsFoldedValues()
    {
        var text = Render("show");
        Assert.Contains(@"EHLO evil\x1b]0;pwned\x07,", text);
        Assert.Contains(@"  Subject: hi \x1b[31mRED\x1b[0m\x08\x08", text);
        Assert.Contains("  To: a@b.test,\tc@d.test\\u2028x\n", text.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_Json_IsValidReadableJsonWithControlCharactersEscaped()
    {
        var output = new StringWriter();
        var renderer = new QueueOutput(output, new StringWriter(), json: true, progress: false, "show", "slimta");
        var message = Message();
        message["headers"] = new JsonArray(new JsonArray("Date", "Sun, 29 Nov 2026 00:35:34 +0000"), new JsonArray("From", "José <j@é.test>\u001b"));
        renderer.Write(message);
        var line = output.ToString().TrimEnd();
        Assert.Contains("+0000", line, StringComparison.Ordinal);
        Assert.Contains("José <j@é.test>\\u001B", line, StringComparison.Ordinal);
        Assert.DoesNotContain(line, c => char.IsControl(c));
        Assert.Equal("José <j@é.test>\u001b", JsonNode.Parse(line)!["headers"]![1]![1]!.GetValue<string>());
    }
}
