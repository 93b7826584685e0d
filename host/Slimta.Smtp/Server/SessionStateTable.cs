using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Server;

/// <summary>A command handler: writes exactly one reply and returns false when the session must close.</summary>
internal delegate ValueTask<bool> CommandHandler(SmtpServerSession session, ReadOnlyMemory<byte> argument, CancellationToken cancellationToken);

/// <summary>
/// The session as an explicit state table (RFC 5321 §4.1.4): state × verb → handler. A missing
/// entry is a bad sequence and gets 503 5.5.1 without running any handler.
/// </summary>
internal static class SessionStateTable
{
    private static readonly int VerbCount = Enum.GetValues<SmtpVerb>().Length;
    private static readonly int StateCount = Enum.GetValues<SessionState>().Length;
    private static readonly CommandHandler?[] Table = Build();

    /// <summary>The handler for <paramref name="verb"/> in <paramref name="state"/>, or null for a bad sequence.</summary>
    public static CommandHandler? Lookup(SessionState state, SmtpVerb verb) => Table[(int)state * VerbCount + (int)verb];

    /// <summary>The 503 reply for a command that is not allowed in <paramref name="state"/>.</summary>
    public static Reply BadSequence(SessionState state, SmtpVerb verb) => (state, verb) switch
    {
        (SessionState.Connected, _) => SmtpReplies.NeedHelo,
        (_, SmtpVerb.Mail) => SmtpReplies.NestedMail,
        (SessionState.Ready, SmtpVerb.Rcpt or SmtpVerb.Data) => SmtpReplies.NeedMail,
        (SessionState.Mail, SmtpVerb.Data) => SmtpReplies.NeedRcpt,
        _ => SmtpReplies.BadSequence,
    };

    private static CommandHandler?[] Build()
    {
        var table = new CommandHandler?[StateCount * VerbCount];
        void Set(SmtpVerb verb, CommandHandler handler, params SessionState[] states)
        {
            foreach (var state in states)
            {
                table[(int)state * VerbCount + (int)verb] = handler;
            }
        }
        var all = Enum.GetValues<SessionState>();
        Set(SmtpVerb.Unknown, static (s, a, c) => s.ErrorAsync(SmtpReplies.UnknownCommand, c), all);
        Set(SmtpVerb.Ehlo, static (s, a, c) => s.OnHeloAsync(a, extended: true, c), all);
        Set(SmtpVerb.Helo, static (s, a, c) => s.OnHeloAsync(a, extended: false, c), all);
        Set(SmtpVerb.Rset, static (s, a, c) => s.OnRsetAsync(a, c), all);
        Set(SmtpVerb.Noop, static (s, a, c) => s.ReplyAsync(SmtpReplies.Ok, c), all);
        Set(SmtpVerb.Quit, static (s, a, c) => s.OnQuitAsync(a, c), all);
        Set(SmtpVerb.Vrfy, static (s, a, c) => s.OnVrfyAsync(a, c), all);
        Set(SmtpVerb.Help, static (s, a, c) => s.ReplyAsync(SmtpReplies.Help, c), all);
        // EXPN and BDAT are not offered. STARTTLS and AUTH check the state themselves: their
        // refusals (503, 538, 502 when not configured) depend on TLS and AUTH settings too.
        Set(SmtpVerb.Expn, static (s, a, c) => s.ErrorAsync(SmtpReplies.NotImplemented, c), all);
        Set(SmtpVerb.StartTls, static (s, a, c) => s.OnStartTlsAsync(a, c), all);
        Set(SmtpVerb.Auth, static (s, a, c) => s.OnAuthAsync(a, c), all);
        Set(SmtpVerb.Bdat, static (s, a, c) => s.ErrorAsync(SmtpReplies.NotImplemented, c), all);
        Set(SmtpVerb.Mail, static (s, a, c) => s.OnMailGatedAsync(a, c), SessionState.Ready);
        Set(SmtpVerb.Rcpt, static (s, a, c) => s.OnRcptAsync(a, c), SessionState.Mail, SessionState.Rcpt);
        Set(SmtpVerb.Data, static (s, a, c) => s.OnDataAsync(a, c), SessionState.Rcpt);
        // DATA after MAIL with no accepted recipient: 554 when RCPTs were refused (RFC 2920
        // §3.1), else a plain bad sequence.
        Set(SmtpVerb.Data, static (s, a, c) => s.OnDataWithoutRecipientsAsync(c), SessionState.Mail);
        return table;
    }
}
