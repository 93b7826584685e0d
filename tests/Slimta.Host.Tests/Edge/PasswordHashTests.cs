using System.Text;
using Slimta.Host.Edge.Auth;

namespace Slimta.Host.Tests.Edge;

public class PasswordHashTests
{
    // python3 -c 'import hashlib,base64;s=b"0123456789abcdef";h=hashlib.pbkdf2_hmac("sha256",b"s3cret pass",s,1000);...'
    internal const string AlicePbkdf2 = "$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg$lSGO8fh5CIau+QFKgHbWRVUT2+mDH8XT6nmIJRUnGTE";

    // openssl passwd -6 -salt saltsalt 'Hello world!'
    internal const string BobSha512Crypt = "$6$saltsalt$pn.eNCAqRIao3pxsOGdjVa9wVR7Rb/3WnbxOluoQKVZPzLuyetx3yF6VIZDfQnn/arrFVfrq3BqRb9gLqhI5z0";

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Verify_Pbkdf2FromPython_MatchesOnlyTheRightPassword()
    {
        Assert.True(PasswordHash.Verify(AlicePbkdf2, Utf8("s3cret pass")));
        Assert.False(PasswordHash.Verify(AlicePbkdf2, Utf8("s3cret pasS")));
        Assert.False(PasswordHash.Verify(AlicePbkdf2, Utf8("")));
    }

    [Fact]
    public void Verify_Pbkdf2PasslibAdaptedBase64_Matches()
    {
        // passlib writes '.' for '+' and no padding.
        Assert.True(PasswordHash.Verify(AlicePbkdf2.Replace('+', '.'), Utf8("s3cret pass")));
    }

    [Fact]
    public void Verify_Sha512CryptFromOpenssl_MatchesOnlyTheRightPassword()
    {
        Assert.True(PasswordHash.Verify(BobSha512Crypt, Utf8("Hello world!")));
        Assert.False(PasswordHash.Verify(BobSha512Crypt, Utf8("Hello world")));
    }

    [Fact]
    public void Verify_Sha512CryptWithRounds_MatchesDrepperVector()
    {
        // The specification's own test vector (also `openssl passwd -6 -salt 'rounds=10000$saltstringsaltst'`).
        const string hash = "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";
        Assert.True(PasswordHash.Verify(hash, Utf8("Hello world!")));
        Assert.False(PasswordHash.Verify(hash, Utf8("Hello world?")));
    }

    [Fact]
    public void Verify_Sha512CryptLongPassword_MatchesDrepperVector()
    {
        // A password longer than 64 bytes exercises the repeated-B and P-sequence steps.
        const string hash = "$6$rounds=1400$anotherlongsaltstring$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1";
        Assert.True(PasswordHash.Verify(hash, Utf8("a very much longer text to encrypt.  This one even stretches over morethan one line.")));
    }

    [Theory]
    [InlineData("s3cret pass")]
    [InlineData("plain:s3cret pass")]
    [InlineData("$1$abc$def")]
    [InlineData("$pbkdf2-sha256$0$MDEy$lSGO8fh5CIau+QFKgHbWRVUT2+mDH8XT6nmIJRUnGTE")]
    [InlineData("$pbkdf2-sha256$1000$MDEy$!!")]
    [InlineData("$6$saltsalt$short")]
    public void Verify_UnsupportedOrMalformedHash_NeverMatches(string hash)
    {
        Assert.False(PasswordHash.IsSupported(hash));
        Assert.False(PasswordHash.Verify(hash, Utf8(hash)));
        Assert.False(PasswordHash.Verify(hash, Utf8("s3cret pass")));
    }

    [Fact]
    public async Task CheckAsync_UnknownUser_IsRefused()
    {
        var authenticator = new CredentialAuthenticator(new ConfigCredentialStore([new("alice", AlicePbkdf2)]));
        Assert.True(await authenticator.CheckAsync("alice", Utf8("s3cret pass"), CancellationToken.None));
        Assert.False(await authenticator.CheckAsync("Alice", Utf8("s3cret pass"), CancellationToken.None));
        Assert.False(await authenticator.CheckAsync("mallory", Utf8("s3cret pass"), CancellationToken.None));
    }
}
