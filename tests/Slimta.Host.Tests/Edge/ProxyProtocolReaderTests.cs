using System.Net;
using System.Text;
using Slimta.Host.Edge.Proxy;

namespace Slimta.Host.Tests.Edge;

public class ProxyProtocolReaderTests
{
    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private static async Task<(ProxyHeader? Header, string Remainder)> ReadAsync(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        var header = await ProxyProtocolReader.ReadAsync(stream, CancellationToken.None);
        return (header, Encoding.Latin1.GetString(bytes, (int)stream.Position, bytes.Length - (int)stream.Position));
    }

    internal static byte[] V2(byte command, byte family, byte[] addresses) =>
        [.. V2Signature, (byte)(0x20 | command), family, (byte)(addresses.Length >> 8), (byte)addresses.Length, .. addresses];

    [Fact]
    public async Task ReadAsync_V1Tcp4_GivesSourceAndLeavesTheRest()
    {
        var (header, rest) = await ReadAsync(Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\nEHLO x\r\n"));
        Assert.Equal(new ProxyHeader(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 51234), 1), header);
        Assert.Equal("EHLO x\r\n", rest);
    }

    [Fact]
    public async Task ReadAsync_V1Tcp6_GivesSource()
    {
        var (header, _) = await ReadAsync(Encoding.ASCII.GetBytes("PROXY TCP6 2001:db8::7 2001:db8::1 4000 25\r\n"));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 4000), header!.Source);
    }

    [Fact]
    public async Task ReadAsync_V1Unknown_KeepsTheRealPeer()
    {
        var (header, _) = await ReadAsync(Encoding.ASCII.GetBytes("PROXY UNKNOWN\r\n"));
        Assert.Equal(new ProxyHeader(null, 1), header);
    }

    [Theory]
    [InlineData("PROXY TCP4 192.0.2.7 198.51.100.1 51234\r\n")]
    [InlineData("PROXY TCP4 2001:db8::7 198.51.100.1 1 25\r\n")]
    [InlineData("PROXY TCP4 192.0.2.7 198.51.100.1 070000 25\r\n")]
    [InlineData("PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n")]
    [InlineData("PROXY UDP4 192.0.2.7 198.51.100.1 1 25\r\n")]
    [InlineData("EHLO client.example.test\r\n")]
    public async Task ReadAsync_BadV1_IsRefused(string text)
    {
        var (header, _) = await ReadAsync(Encoding.ASCII.GetBytes(text));
        Assert.Null(header);
    }

    [Fact]
    public async Task ReadAsync_V1WithoutCrlfWithin107Bytes_IsRefused()
    {
        var (header, _) = await ReadAsync(Encoding.ASCII.GetBytes("PROXY TCP4 " + new string('1', 200) + "\r\n"));
        Assert.Null(header);
    }

    [Fact]
    public async Task ReadAsync_V2Tcp4_GivesSourceAndSkipsTlvs()
    {
        byte[] addresses = [192, 0, 2, 9, 198, 51, 100, 1, 0xC8, 0x01, 0, 25, /* a TLV */ 0x04, 0, 1, 0xAA];
        var (header, rest) = await ReadAsync([.. V2(1, 0x11, addresses), .. "QUIT\r\n"u8]);
        Assert.Equal(new ProxyHeader(new IPEndPoint(IPAddress.Parse("192.0.2.9"), 0xC801), 2), header);
        Assert.Equal("QUIT\r\n", rest);
    }

    [Fact]
    public async Task ReadAsync_V2Tcp6_GivesSource()
    {
        var source = IPAddress.Parse("2001:db8::9").GetAddressBytes();
        var destination = IPAddress.Parse("2001:db8::1").GetAddressBytes();
        var (header, _) = await ReadAsync(V2(1, 0x21, [.. source, .. destination, 0x12, 0x34, 0, 25]));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::9"), 0x1234), header!.Source);
    }

    [Fact]
    public async Task ReadAsync_V2Local_KeepsTheRealPeer()
    {
        var (header, _) = await ReadAsync(V2(0, 0x00, []));
        Assert.Equal(new ProxyHeader(null, 2), header);
    }

    [Fact]
    public async Task ReadAsync_V2WrongVersionOrShortAddresses_IsRefused()
    {
        byte[] wrongVersion = [.. V2Signature, 0x11, 0x11, 0, 12, 192, 0, 2, 9, 198, 51, 100, 1, 0, 1, 0, 25];
        Assert.Null((await ReadAsync(wrongVersion)).Header);
        Assert.Null((await ReadAsync(V2(1, 0x11, [192, 0, 2, 9]))).Header);
        Assert.Null((await ReadAsync(V2(2, 0x11, new byte[12]))).Header);
    }

    [Fact]
    public async Task ReadAsync_Truncated_ThrowsEndOfStream()
    {
        await Assert.ThrowsAsync<EndOfStreamException>(() => ReadAsync(Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.7")));
    }
}
