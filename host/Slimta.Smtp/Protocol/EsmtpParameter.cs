namespace Slimta.Smtp.Protocol;

/// <summary>One MAIL or RCPT parameter (RFC 5321 §4.1.2 esmtp-param): a keyword and an optional value.</summary>
internal readonly record struct EsmtpParameter(string Keyword, string? Value);
