using System.Net;

namespace Slimta.Smtp.Server;

/// <summary>What a session knows about its client.</summary>
public sealed class SmtpSessionInfo
{
    /// <summary>Creates the information for a new connection.</summary>
    public SmtpSessionInfo(EndPoint? remoteEndPoint) => RemoteEndPoint = remoteEndPoint;

    /// <summary>The client's address, when the transport has one.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The name given in the last EHLO or HELO, or null before it.</summary>
    public string? EhloName { get; internal set; }

    /// <summary>True after EHLO, false after HELO (or before either).</summary>
    public bool IsExtended { get; internal set; }

    /// <summary>The RFC 3848 protocol name: <c>ESMTP</c> after EHLO, else <c>SMTP</c>.</summary>
    public string Protocol => IsExtended ? "ESMTP" : "SMTP";
}
