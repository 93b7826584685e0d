using System.Text;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Tests.Server;

public class PathCommandParserTests
{
    private static (PathCommandError Error, SmtpPath Path, List<EsmtpParameter> Parameters) Mail(string argument)
    {
        var parameters = new List<EsmtpParameter>();
        var error = PathCommandParser.ParseMail(Encoding.UTF8.GetBytes(argument), out var path, parameters);
        return (error, path, parameters);
    }

    private static (PathCommandError Error, SmtpPath Path) Rcpt(string argument)
    {
        var error = PathCommandParser.ParseRcpt(Encoding.UTF8.GetBytes(argument), out var path, []);
        return (error, path);
    }

    [Theory]
    [InlineData("FROM:<a@b.test>", "a@b.test")]
    [InlineData("from:<a@b.test>", "a@b.test")]
    [InlineData("FROM: <a@b.test>", "a@b.test")]
    [InlineData("FROM:<\"john doe\"@b.test>", "\"john doe\"@b.test")]
    [InlineData("FROM:<\"a>b\"@b.test>", "\"a>b\"@b.test")]
    [InlineData("FROM:<\"a\\\"b\"@b.test>", "\"a\\\"b\"@b.test")]
    [InlineData("FROM:<@relay1.test,@relay2.test:a@b.test>", "a@b.test")]
    [InlineData("FROM:<a@[192.0.2.1]>", "a@[192.0.2.1]")]
    [InlineData("FROM:<a+tag@b.test>", "a+tag@b.test")]
    public void ParseMail_ValidPath_GivesAddress(string argument, string address)
    {
        var (error, path, _) = Mail(argument);
        Assert.Equal(PathCommandError.None, error);
        Assert.Equal(address, path.Address);
        Assert.False(path.IsNonAscii);
    }

    [Fact]
    public void ParseMail_NullSender_IsNull()
    {
        var (error, path, _) = Mail("FROM:<>");
        Assert.Equal(PathCommandError.None, error);
        Assert.True(path.IsNull);
    }

    [Theory]
    [InlineData("FROM:a@b.test")]
    [InlineData("FROM:<a@b.test")]
    [InlineData("FROM:<a@>")]
    [InlineData("FROM:<@b.test>")]
    [InlineData("FROM:<a b@c.test>")]
    [InlineData("FROM:<\"unterminated@b.test>")]
    [InlineData("FROM:<a@b..test>")]
    [InlineData("TO:<a@b.test>")]
    [InlineData("FROM:<postmaster>")]
    [InlineData("")]
    public void ParseMail_BadPath_IsPathSyntax(string argument)
    {
        Assert.Equal(PathCommandError.PathSyntax, Mail(argument).Error);
    }

    [Fact]
    public void ParseMail_Parameters_AreSplitAndUpperCased()
    {
        var (error, _, parameters) = Mail("FROM:<a@b.test> size=100  BODY=8BITMIME SMTPUTF8 ");
        Assert.Equal(PathCommandError.None, error);
        Assert.Equal([new("SIZE", "100"), new("BODY", "8BITMIME"), new("SMTPUTF8", null)], parameters);
    }

    [Theory]
    [InlineData("FROM:<a@b.test> SIZE=")]
    [InlineData("FROM:<a@b.test> =1")]
    [InlineData("FROM:<a@b.test> SI_ZE=1")]
    [InlineData("FROM:<a@b.test> A=b=c")]
    [InlineData("FROM:<a@b.test>x")]
    public void ParseMail_BadParameters_IsParameterSyntax(string argument)
    {
        Assert.Equal(PathCommandError.ParameterSyntax, Mail(argument).Error);
    }

    [Fact]
    public void ParseMail_Utf8Address_IsFlaggedNonAscii()
    {
        var (error, path, _) = Mail("FROM:<jöran@exämple.test> SMTPUTF8");
        Assert.Equal(PathCommandError.None, error);
        Assert.True(path.IsNonAscii);
        Assert.Equal("jöran@exämple.test", path.Address);
    }

    [Fact]
    public void ParseMail_InvalidUtf8_IsPathSyntax()
    {
        var bytes = Encoding.ASCII.GetBytes("FROM:<a\xff@b.test>").ToArray();
        bytes[7] = 0xFF;
        Assert.Equal(PathCommandError.PathSyntax, PathCommandParser.ParseMail(bytes, out _, []));
    }

    [Fact]
    public void ParseRcpt_Postmaster_IsAllowedWithoutDomain()
    {
        var (error, path) = Rcpt("TO:<Postmaster>");
        Assert.Equal(PathCommandError.None, error);
        Assert.Equal("Postmaster", path.Address);
    }

    [Fact]
    public void ParseRcpt_NullPath_IsPathSyntax()
    {
        Assert.Equal(PathCommandError.PathSyntax, Rcpt("TO:<>").Error);
    }
}
