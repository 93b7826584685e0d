using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Slimta.Host.Edge.Proxy;

/// <summary>
/// Reads the PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) at the start of
/// a connection. It reads exactly the header's bytes from the stream and nothing more, so what
/// follows (SMTP commands or a TLS ClientHello) is left for the session.
/// </summary>
public static class ProxyProtocolReader
{
    /// <summary>The longest v1 line, CRLF included (spec §2.1).</summary>
    public const int MaxV1Length = 107;

    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>
    /// Reads one header. Returns null when the bytes are not a valid header (the caller closes the
    /// connection: a header is mandatory when the listener expects one, spec §2). Throws
    /// <see cref="EndOfStreamException"/> when the peer closes first.
    /// </summary>
    public static async Task<ProxyHeader?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        // 12 bytes: the v2 signature, and shorter than any v1 line ("PROXY UNKNOWN\r\n" is 15).
        var start = new byte[12];
        await stream.ReadExactlyAsync(start, cancellationToken).ConfigureAwait(false);
        if (start.AsSpan().SequenceEqual(V2Signature))
        {
            return await ReadV2Async(stream, cancellationToken).ConfigureAwait(false);
        }
        if (!start.AsSpan().StartsWith("PROXY "u8))
        {
            return null;
        }
        var line = new byte[MaxV1Length];
        start.CopyTo(line, 0);
        int length = start.Length;
        // Byte by byte: reading ahead would swallow what follows the header.
        while (length < 2 || line[length - 2] != '\r' || line[length - 1] != '\n')
        {
            if (length == MaxV1Length)
            {
                return null;
            }
            await stream.ReadExactlyAsync(line.AsMemory(length, 1), cancellationToken).ConfigureAwait(false);
            length++;
        }
        return ParseV1(line.AsSpan(0, length - 2));
    }

    /// <summary>Parses a v1 line without its CRLF: <c>PROXY TCP4|TCP6 src dst sport dport</c> or <c>PROXY UNKNOWN …</c>.</summary>
    public static ProxyHeader? ParseV1(ReadOnlySpan<byte> line)
    {
        if (line.IndexOfAny((byte)'\r', (byte)'\n') >= 0)
        {
            return null;
        }
        var parts = Encoding.ASCII.GetString(line).Split(' ');
        if (parts.Length < 2 || parts[0] != "PROXY")
        {
            return null;
        }
        if (parts[1] == "UNKNOWN")
        {
            // Spec §2.1: the rest of the line is ignored and the real connection address used.
            return new ProxyHeader(null, 1);
        }
        if (parts.Length != 6 || parts[1] is not ("TCP4" or "TCP6"))
        {
            return null;
        }
        var family = parts[1] == "TCP4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        if (!IPAddress.TryParse(parts[2], out var source) || source.AddressFamily != family
            || !IPAddress.TryParse(parts[3], out var destination) || destination.AddressFamily != family
            || !TryPort(parts[4], out int sourcePort) || !TryPort(parts[5], out _))
        {
            return null;
        }
        return new ProxyHeader(new IPEndPoint(source, sourcePort), 1);
    }

    private static bool TryPort(string text, out int port)
    {
        port = 0;
        // Spec §2.1: decimal, no leading zeros (except "0" itself), 0-65535.
        return text.Length is > 0 and <= 5 && (text == "0" || text[0] != '0') && text.All(char.IsAsciiDigit)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535;
    }

    private static async Task<ProxyHeader?> ReadV2Async(Stream stream, CancellationToken cancellationToken)
    {
        var fixedPart = new byte[4];
        await stream.ReadExactlyAsync(fixedPart, cancellationToken).ConfigureAwait(false);
        int length = BinaryPrimitives.ReadUInt16BigEndian(fixedPart.AsSpan(2));
        // At most 64 KiB: bounded by the 16-bit length field. TLVs are read and ignored.
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        return ParseV2(fixedPart[0], fixedPart[1], body);
    }

    /// <summary>Parses a v2 header after its signature: version/command, family/protocol and the address block.</summary>
    public static ProxyHeader? ParseV2(byte versionCommand, byte familyProtocol, ReadOnlySpan<byte> body)
    {
        if (versionCommand >> 4 != 2)
        {
            return null;
        }
        switch (versionCommand & 0x0F)
        {
            case 0:
                // LOCAL: the proxy's own connection (health checks); spec §2.2 says use the real addresses.
                return new ProxyHeader(null, 2);
            case 1:
                break;
            default:
                return null;
        }
        int family = familyProtocol >> 4;
        int protocol = familyProtocol & 0x0F;
        if (protocol > 2 || family > 3)
        {
            return null;
        }
        switch (family)
        {
            case 1 when body.Length >= 12:
                return new ProxyHeader(new IPEndPoint(new IPAddress(body[..4]), BinaryPrimitives.ReadUInt16BigEndian(body[8..])), 2);
            case 2 when body.Length >= 36:
                return new ProxyHeader(new IPEndPoint(new IPAddress(body[..16]), BinaryPrimitives.ReadUInt16BigEndian(body[32..])), 2);
            case 0:
            case 3 when body.Length >= 216:
                // UNSPEC or a unix socket: no IP address to report.
                return new ProxyHeader(null, 2);
            default:
                return null;
        }
    }
}
