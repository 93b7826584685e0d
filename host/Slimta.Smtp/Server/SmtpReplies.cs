using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Server;

/// <summary>The fixed replies of the server session, with RFC 3463 enhanced status codes.</summary>
internal static class SmtpReplies
{
    public static readonly Reply Ok = new(250, "2.0.0", "Ok");
    public static readonly Reply SenderOk = new(250, "2.1.0", "Sender ok");
    public static readonly Reply RecipientOk = new(250, "2.1.5", "Recipient ok");
    public static readonly Reply StartData = new(354, null, "End data with <CR><LF>.<CR><LF>");
    public static readonly Reply Bye = new(221, "2.0.0", "Bye");
    public static readonly Reply CannotVerify = new(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
    public static readonly Reply Help = new(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP; see RFC 5321");
    public static readonly Reply UnknownCommand = new(500, "5.5.2", "Syntax error, command unrecognized");
    public static readonly Reply LineTooLong = new(500, "5.5.2", "Line too long (512 octets at most, RFC 5321 4.5.3.1.4)");
    public static readonly Reply BareLineFeed = new(500, "5.5.2", "Bare LF received; command lines must end with CRLF");
    public static readonly Reply NotImplemented = new(502, "5.5.1", "Command not implemented");
    public static readonly Reply NeedHostname = new(501, "5.5.4", "Syntax: EHLO hostname");
    public static readonly Reply NoArguments = new(501, "5.5.4", "Syntax error: no arguments allowed");
    public static readonly Reply VrfySyntax = new(501, "5.5.4", "Syntax: VRFY address");
    public static readonly Reply MailSyntax = new(501, "5.1.7", "Syntax: MAIL FROM:<address> [parameters]");
    public static readonly Reply RcptSyntax = new(501, "5.1.3", "Syntax: RCPT TO:<address> [parameters]");
    public static readonly Reply ParameterSyntax = new(501, "5.5.4", "Syntax error in parameters");
    public static readonly Reply UnknownParameter = new(555, "5.5.4", "Unsupported MAIL/RCPT parameter");
    public static readonly Reply MessageTooBig = new(552, "5.3.4", "Message size exceeds fixed maximum message size");
    public static readonly Reply TooManyRecipients = new(452, "4.5.3", "Too many recipients");
    public static readonly Reply NeedSmtpUtf8 = new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    public static readonly Reply NoValidRecipients = new(554, "5.5.1", "No valid recipients");
    public static readonly Reply BareLineEndingInData = new(554, "5.6.0", "Message refused: bare CR or LF in DATA; lines must end with CRLF (RFC 5321 2.3.8)");
    public static readonly Reply LocalError = new(451, "4.3.0", "Local error, try again later");
    public static readonly Reply Timeout = new(421, "4.4.2", "Timeout, closing connection");
    public static readonly Reply TooManyErrors = new(421, "4.7.0", "Too many errors, closing connection");
    public static readonly Reply ShuttingDown = new(421, "4.3.2", "Service shutting down, closing connection");

    public static readonly Reply NeedHelo = new(503, "5.5.1", "Send EHLO or HELO first");
    public static readonly Reply NestedMail = new(503, "5.5.1", "Sender already given");
    public static readonly Reply NeedMail = new(503, "5.5.1", "Send MAIL first");
    public static readonly Reply NeedRcpt = new(503, "5.5.1", "Send RCPT first");
    public static readonly Reply BadSequence = new(503, "5.5.1", "Bad sequence of commands");
}
