namespace Slimta.Smtp.Protocol;

/// <summary>Why a MAIL or RCPT argument could not be parsed.</summary>
internal enum PathCommandError
{
    /// <summary>Parsed.</summary>
    None,

    /// <summary><c>FROM:</c> / <c>TO:</c> missing, or the path is malformed.</summary>
    PathSyntax,

    /// <summary>The parameters after the path are malformed.</summary>
    ParameterSyntax,
}
