namespace Slimta.Plugins.Smtp;

/// <summary>How a <see cref="WaitingDelivery"/> goes on once taken out of the line.</summary>
internal enum HandoffKind
{
    /// <summary>It now holds a connection slot: take an idle session or open one.</summary>
    Slot,

    /// <summary>Its MAIL, RCPT and DATA were written behind the previous message on the session handed with it (and its slot).</summary>
    Chained,

    /// <summary>Decided without the server (the client refused the message itself).</summary>
    Decided,

    /// <summary>Taken to be chained, but the carrying session failed first: nothing of it was sent; line up again.</summary>
    Retry,
}
