using System.Net;
using Slimta.Smtp.Spf;

namespace Slimta.Smtp.Tests.Spf;

public class SpfMacroTests
{
    // The examples of RFC 7208 §7.4.
    private static readonly SpfMacroValues Values = new("strong-bad@email.example.com", "email.example.com", IPAddress.Parse("192.0.2.3"), "mx.example.org", "mx.example.test");

    [Theory]
    [InlineData("%{s}", "strong-bad@email.example.com")]
    [InlineData("%{o}", "email.example.com")]
    [InlineData("%{d}", "email.example.com")]
    [InlineData("%{d4}", "email.example.com")]
    [InlineData("%{d3}", "email.example.com")]
    [InlineData("%{d2}", "example.com")]
    [InlineData("%{d1}", "com")]
    [InlineData("%{dr}", "com.example.email")]
    [InlineData("%{d2r}", "example.email")]
    [InlineData("%{l}", "strong-bad")]
    [InlineData("%{l-}", "strong.bad")]
    [InlineData("%{lr}", "strong-bad")]
    [InlineData("%{lr-}", "bad.strong")]
    [InlineData("%{l1r-}", "strong")]
    [InlineData("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com")]
    [InlineData("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com")]
    [InlineData("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net")]
    [InlineData("%{h}", "mx.example.org")]
    [InlineData("%%%_%-", "% %20")]
    [InlineData("%{S}", "strong-bad%40email.example.com")]
    public void Expand_Rfc7208Examples_MatchTheRfc(string macro, string expected)
    {
        Assert.Equal(expected, SpfMacro.Expand(macro, Values, explanation: false));
    }

    [Fact]
    public void Expand_Ipv6Address_IsDottedNibbles()
    {
        var values = Values with { Address = IPAddress.Parse("2001:db8::cb01") };
        Assert.Equal("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com",
            SpfMacro.Expand("%{ir}.%{v}._spf.%{d2}", values, explanation: false));
    }

    [Theory]
    [InlineData("%{x}")]
    [InlineData("%{d0}")]
    [InlineData("%{d")]
    [InlineData("%z")]
    [InlineData("%{c}")]
    [InlineData("100%")]
    public void Expand_Malformed_IsNull(string macro)
    {
        Assert.Null(SpfMacro.Expand(macro, Values, explanation: false));
        Assert.False(SpfMacro.IsValid(macro));
    }

    [Theory]
    [InlineData("v=spf1 -all", true)]
    [InlineData("V=SPF1", true)]
    [InlineData("v=spf10 -all", false)]
    [InlineData("spf1 -all", false)]
    public void IsSpfRecord_Version_IsExact(string text, bool expected)
    {
        Assert.Equal(expected, SpfRecordParser.IsSpfRecord(text));
    }

    [Theory]
    [InlineData("v=spf1 ip4:192.0.2.0/33")]
    [InlineData("v=spf1 ip4:192.0.2.0/024")]
    [InlineData("v=spf1 ip6:192.0.2.1")]
    [InlineData("v=spf1 a:example.com//129")]
    [InlineData("v=spf1 include")]
    [InlineData("v=spf1 redirect=a.test redirect=b.test")]
    [InlineData("v=spf1 all:x")]
    public void Parse_SyntaxError_IsNull(string text)
    {
        Assert.Null(SpfRecordParser.Parse(text));
    }

    [Fact]
    public void Parse_FullRecord_ReadsEveryTerm()
    {
        var record = SpfRecordParser.Parse("v=spf1 +a -mx:%{d}/24//64 ~ip4:10.0.0.0/8 ?include:x.test exists:%{i}.e.test ptr ip6:2001:db8::/32 unknown=kept redirect=r.test exp=e.test");
        Assert.NotNull(record);
        Assert.Equal([SpfMechanismKind.A, SpfMechanismKind.Mx, SpfMechanismKind.Ip4, SpfMechanismKind.Include, SpfMechanismKind.Exists, SpfMechanismKind.Ptr, SpfMechanismKind.Ip6], record.Mechanisms.Select(m => m.Kind));
        Assert.Equal([SpfResult.Pass, SpfResult.Fail, SpfResult.SoftFail, SpfResult.Neutral, SpfResult.Pass, SpfResult.Pass, SpfResult.Pass], record.Mechanisms.Select(m => m.Qualifier));
        Assert.Equal(24, record.Mechanisms[1].Cidr4);
        Assert.Equal(64, record.Mechanisms[1].Cidr6);
        Assert.Equal(8, record.Mechanisms[2].Cidr4);
        Assert.Equal(32, record.Mechanisms[6].Cidr6);
        Assert.Equal("r.test", record.Redirect);
        Assert.Equal("e.test", record.Explanation);
    }
}
