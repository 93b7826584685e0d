using System.Security.Cryptography;

namespace Slimta.Host.Queueing;

/// <summary>Queue ids: 128 random bits as 32 lower-case hex digits (python-slimta used uuid4().hex).</summary>
public static class QueueId
{
    /// <summary>A new, unguessable queue id.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
