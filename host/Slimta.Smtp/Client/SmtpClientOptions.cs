namespace Slimta.Smtp.Client;

/// <summary>Settings of one <see cref="SmtpClient"/> session.</summary>
public sealed class SmtpClientOptions
{
    /// <summary>The name sent with EHLO/HELO/LHLO (RFC 5321 §4.1.1.1: this host's FQDN).</summary>
    public string EhloName { get; init; } = "localhost";

    /// <summary>Speak LMTP (RFC 2033): LHLO instead of EHLO, and one reply per accepted recipient after DATA.</summary>
    public bool Lmtp { get; init; }

    /// <summary>The clock for every timeout.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Time allowed to open the TCP connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for each command and its reply, the greeting and the TLS handshake.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for each write of message data and for the final reply after DATA.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Longest reply line accepted, in bytes. RFC 5321 §4.5.3.1.5 allows 512 including CRLF;
    /// real servers send longer text, so the default is generous but bounded.
    /// </summary>
    public int MaxReplyLineLength { get; init; } = 4096;

    /// <summary>
    /// Converts an 8-bit message to 7-bit for a server that does not offer 8BITMIME (RFC 6152 §3),
    /// or returns null when it cannot; null (the default) refuses such messages with 554 5.6.3.
    /// The SMTP relay plugin supplies a MimeKit-based converter (<c>eight_bit: convert</c>).
    /// </summary>
    public Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>?>? EightBitConverter { get; init; }

    /// <summary>Most lines accepted in one multi-line reply (bounds memory for a hostile server).</summary>
    public int MaxReplyLines { get; init; } = 256;
}
