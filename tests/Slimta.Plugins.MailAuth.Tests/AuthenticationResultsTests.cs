using Slimta.Plugins.MailAuth.Verify;

namespace Slimta.Plugins.MailAuth.Tests;

public sealed class AuthenticationResultsTests
{
    [Theory]
    [InlineData("SNjgD4R+", "SNjgD4R+")]           // base64 with '+': an RFC 2045 token
    [InlineData("ab+cd/ef", "\"ab+cd/ef\"")]       // '/' is a tspecial: quoted
    [InlineData("abc=", "\"abc=\"")]               // '=' too
    [InlineData("example.test", "example.test")]
    [InlineData("alice@example.test", "alice@example.test")]
    [InlineData("a b", "\"a b\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    public void Value_Text_TokenAddressOrQuotedString(string text, string expected) =>
        Assert.Equal(expected, AuthenticationResults.Value(text));
}
