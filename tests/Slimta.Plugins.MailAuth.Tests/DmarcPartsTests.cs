using Slimta.Plugins.MailAuth.Verify;

namespace Slimta.Plugins.MailAuth.Tests;

public sealed class DmarcPartsTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("mail.example.com", "example.com")]
    [InlineData("a.b.mail.example.com", "example.com")]
    [InlineData("mail.example.co.uk", "example.co.uk")]
    [InlineData("example.co.uk", "example.co.uk")]
    [InlineData("co.uk", "co.uk")]
    [InlineData("Shop.Example.COM.", "example.com")]
    [InlineData("x.corp.internal.example", "internal.example")]
    public void Of_Names_PublicSuffixPlusOneLabel(string domain, string expected) =>
        Assert.Equal(expected, new OrganizationalDomain([]).Of(domain));

    [Fact]
    public void Of_ConfiguredSuffix_Honoured() =>
        Assert.Equal("alice.github.io", new OrganizationalDomain(["github.io"]).Of("www.alice.github.io"));

    [Theory]
    [InlineData("v=DMARC1; p=reject", true)]
    [InlineData("v = DMARC1 ;p=none", true)]
    [InlineData("v=DMARC2; p=reject", false)]
    [InlineData("p=reject; v=DMARC1", false)]
    [InlineData("v=spf1 -all", false)]
    public void IsDmarc_Texts(string text, bool expected) => Assert.Equal(expected, DmarcRecord.IsDmarc(text));

    [Fact]
    public void Parse_AllTags_Read()
    {
        var record = DmarcRecord.Parse("v=DMARC1; p=Quarantine; sp=reject; adkim=s; aspf=r; pct=20; rua=mailto:x@example.com");
        Assert.Equal(new DmarcRecord("quarantine", "reject", true, false, 20), record);
    }

    [Theory]
    [InlineData("v=DMARC1")]
    [InlineData("v=DMARC1; p=block")]
    public void Parse_NoValidPolicy_IsNoRecord(string text) => Assert.Null(DmarcRecord.Parse(text));

    [Fact]
    public void Parse_InvalidOptionalTags_DefaultsApply() =>
        Assert.Equal(new DmarcRecord("reject", null, false, false, 100), DmarcRecord.Parse("v=DMARC1; p=reject; sp=maybe; adkim=x; pct=400"));

    [Fact]
    public void Parse_InvalidPolicyWithReportAddress_TakenAsPolicyNone() =>
        // RFC 7489 §6.6.3 step 6.1.
        Assert.Equal(new DmarcRecord("none", null, false, false, 100), DmarcRecord.Parse("v=DMARC1; p=block; rua=mailto:d@example.com"));
}
