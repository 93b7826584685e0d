using System.Text;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Tests.Server;

public class CommandTokenizerTests
{
    [Theory]
    [InlineData("EHLO x", "Ehlo", "x")]
    [InlineData("ehlo x", "Ehlo", "x")]
    [InlineData("MaIl FROM:<a@b>", "Mail", "FROM:<a@b>")]
    [InlineData("DATA", "Data", "")]
    [InlineData("STARTTLS", "StartTls", "")]
    [InlineData("NOOPX", "Unknown", "")]
    [InlineData("", "Unknown", "")]
    [InlineData("FOOBAR baz", "Unknown", "baz")]
    public void Tokenize_Line_GivesVerbAndArgument(string line, string verb, string argument)
    {
        var bytes = Encoding.ASCII.GetBytes(line);
        Assert.Equal(Enum.Parse<SmtpVerb>(verb), CommandTokenizer.Tokenize(bytes, out int start));
        Assert.Equal(argument, Encoding.ASCII.GetString(bytes, start, bytes.Length - start));
    }
}
