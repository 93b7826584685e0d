using System.Text;

namespace Slimta.Smtp.Protocol;

/// <summary>Splits a command line (without its CRLF) into the verb and its argument.</summary>
internal static class CommandTokenizer
{
    /// <summary>
    /// Recognises the command word (case-insensitive, RFC 5321 §2.4) and returns the argument
    /// that follows the first space (empty when there is none). A verb followed by anything but
    /// a space (<c>NOOPX</c>) is unknown.
    /// </summary>
    public static SmtpVerb Tokenize(ReadOnlySpan<byte> line, out int argumentStart)
    {
        int space = line.IndexOf((byte)' ');
        var word = space < 0 ? line : line[..space];
        argumentStart = space < 0 ? line.Length : space + 1;
        return word.Length switch
        {
            4 => Verb4(word),
            8 when Ascii.EqualsIgnoreCase(word, "STARTTLS"u8) => SmtpVerb.StartTls,
            _ => SmtpVerb.Unknown,
        };
    }

    private static SmtpVerb Verb4(ReadOnlySpan<byte> w)
    {
        if (Ascii.EqualsIgnoreCase(w, "MAIL"u8)) return SmtpVerb.Mail;
        if (Ascii.EqualsIgnoreCase(w, "RCPT"u8)) return SmtpVerb.Rcpt;
        if (Ascii.EqualsIgnoreCase(w, "DATA"u8)) return SmtpVerb.Data;
        if (Ascii.EqualsIgnoreCase(w, "EHLO"u8)) return SmtpVerb.Ehlo;
        if (Ascii.EqualsIgnoreCase(w, "HELO"u8)) return SmtpVerb.Helo;
        if (Ascii.EqualsIgnoreCase(w, "RSET"u8)) return SmtpVerb.Rset;
        if (Ascii.EqualsIgnoreCase(w, "NOOP"u8)) return SmtpVerb.Noop;
        if (Ascii.EqualsIgnoreCase(w, "QUIT"u8)) return SmtpVerb.Quit;
        if (Ascii.EqualsIgnoreCase(w, "VRFY"u8)) return SmtpVerb.Vrfy;
        if (Ascii.EqualsIgnoreCase(w, "EXPN"u8)) return SmtpVerb.Expn;
        if (Ascii.EqualsIgnoreCase(w, "HELP"u8)) return SmtpVerb.Help;
        if (Ascii.EqualsIgnoreCase(w, "AUTH"u8)) return SmtpVerb.Auth;
        if (Ascii.EqualsIgnoreCase(w, "BDAT"u8)) return SmtpVerb.Bdat;
        return SmtpVerb.Unknown;
    }

    /// <summary>The span without leading and trailing spaces and tabs.</summary>
    public static ReadOnlySpan<byte> TrimSpaces(ReadOnlySpan<byte> s) => s.Trim(" \t"u8);
}
