using System.Net;

namespace Slimta.Smtp.Server;

/// <summary>What a session knows about its client.</summary>
public sealed class SmtpSessionInfo
{
    /// <summary>Creates the information for a new connection.</summary>
    /// <param name="remoteEndPoint">The client's address (after a PROXY header, the original client's).</param>
    /// <param name="isSecure">True when the connection is encrypted from the start (implicit TLS).</param>
    public SmtpSessionInfo(EndPoint? remoteEndPoint, bool isSecure = false)
    {
        RemoteEndPoint = remoteEndPoint;
        IsSecure = isSecure;
    }

    /// <summary>The client's address, when the transport has one.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The name given in the last EHLO or HELO, or null before it.</summary>
    public string? EhloName { get; internal set; }

    /// <summary>True after EHLO, false after HELO (or before either).</summary>
    public bool IsExtended { get; internal set; }

    /// <summary>True when the connection is encrypted (implicit TLS or after STARTTLS).</summary>
    public bool IsSecure { get; internal set; }

    /// <summary>The user of a successful AUTH, or null.</summary>
    public string? AuthenticatedUser { get; internal set; }

    /// <summary>
    /// The RFC 3848 protocol name for the Received header: <c>ESMTP</c> after EHLO, with <c>S</c>
    /// under TLS and <c>A</c> after AUTH (<c>ESMTPS</c>, <c>ESMTPA</c>, <c>ESMTPSA</c>); <c>SMTP</c> after HELO.
    /// </summary>
    public string Protocol => !IsExtended ? "SMTP" : (IsSecure, AuthenticatedUser is not null) switch
    {
        (true, true) => "ESMTPSA",
        (true, false) => "ESMTPS",
        (false, true) => "ESMTPA",
        _ => "ESMTP",
    };
}
