using System.Net;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// A Rackspace API call answered with a status the storage cannot continue from (after retries
/// and the one re-authentication). The queue engine turns it into a deferral (451 at the edge).
/// </summary>
public sealed class RackspaceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RackspaceException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public RackspaceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RackspaceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for an unexpected status of <paramref name="what"/>.</summary>
    public RackspaceException(string what, HttpStatusCode status)
        : base($"{what}: unexpected status {(int)status} {status}")
    {
        Status = status;
    }

    /// <summary>The status the service answered, when the failure was an answer.</summary>
    public HttpStatusCode? Status { get; }
}
