using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>Either a ready session (greeted, EHLO done, TLS and AUTH as configured) or the reply that explains why there is none.</summary>
/// <remarks><c>Reused</c>: the session comes from the idle pool, so its next transaction starts with an RSET that checks it is still alive.</remarks>
internal readonly record struct SessionResult(SmtpClient? Client, Reply? Failure, bool Reused = false)
{
    public static SessionResult Ok(SmtpClient client, bool reused = false) => new(client, null, reused);

    public static SessionResult Fail(Reply reply) => new(null, reply);
}
