using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Smtp;

/// <summary>The addresses of a next hop could not be found; <see cref="Reply"/> says how that ends the attempt.</summary>
internal sealed class AddressLookupException : Exception
{
    public AddressLookupException(Reply reply)
        : base(reply.ToString()) => Reply = reply;

    public AddressLookupException()
        : this(new Reply(451, "4.4.3", "address lookup failed")) { }

    public AddressLookupException(string message)
        : this(new Reply(451, "4.4.3", message)) { }

    public AddressLookupException(string message, Exception innerException)
        : base(message, innerException) => Reply = new Reply(451, "4.4.3", message);

    public Reply Reply { get; }
}
