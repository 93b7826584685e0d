namespace Slimta.Host.Edge.Spam;

/// <summary><c>rules.reject_spam: {type: spamassassin, host, port, timeout}</c>.</summary>
/// <param name="Host">spamd's host (default 127.0.0.1).</param>
/// <param name="Port">spamd's port (default 783).</param>
/// <param name="Timeout">Time allowed for one check, connection included (default 30 s).</param>
public sealed record SpamdSettings(string Host, int Port, TimeSpan Timeout);
