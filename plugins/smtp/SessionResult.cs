using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>Either a ready session (greeted, EHLO done, TLS and AUTH as configured) or the reply that explains why there is none.</summary>
internal readonly record struct SessionResult(SmtpClient? Client, Reply? Failure)
{
    public static SessionResult Ok(SmtpClient client) => new(client, null);

    public static SessionResult Fail(Reply reply) => new(null, reply);
}
