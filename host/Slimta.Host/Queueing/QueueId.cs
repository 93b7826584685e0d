namespace Slimta.Host.Queueing;

/// <summary>Queue ids: a random (version 4) UUID as 32 lower-case hex digits, like python-slimta's uuid4().hex.</summary>
public static class QueueId
{
    /// <summary>A new queue id, unique across processes and machines that share a storage.</summary>
    /// <remarks>
    /// <see cref="Guid.NewGuid"/> draws from the OS generator without going through OpenSSL: the profile
    /// in docs/benchmarks.md showed RandomNumberGenerator (RAND_bytes, getpid and ERR_clear_error per
    /// call) at 4 % of the server's CPU. 122 random bits keep collisions out of reach.
    /// </remarks>
    public static string New() => Guid.NewGuid().ToString("N");
}
