using System.Text;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Local;

/// <summary>
/// The argument list of a command relay with macros: <c>{sender}</c>, <c>{recipient}</c>,
/// <c>{localpart}</c>, <c>{domain}</c> (of the recipient), <c>{id}</c> (queue id),
/// <c>{message_id}</c> (the Message-Id header without angle brackets), <c>{client_ip}</c>,
/// <c>{client_host}</c> (reverse DNS), <c>{ehlo}</c>, <c>{protocol}</c>, <c>{auth}</c>
/// (authenticated user). <c>{{</c> and <c>}}</c> are literal braces.
/// </summary>
/// <remarks>
/// Each argument is passed to the program as one argv element (no shell), so an address cannot
/// add arguments or run commands. A value containing NUL or a line break is refused: such a
/// recipient fails permanently instead of reaching the program. When a relay runs once for all
/// recipients, an argument that is exactly <c>{recipient}</c> becomes one argument per recipient;
/// elsewhere the recipients are joined with commas.
/// </remarks>
internal sealed class CommandTemplate
{
    internal static readonly string[] Macros =
        ["sender", "recipient", "localpart", "domain", "id", "message_id", "client_ip", "client_host", "ehlo", "protocol", "auth"];

    private readonly IReadOnlyList<string> _args;

    private CommandTemplate(IReadOnlyList<string> args) => _args = args;

    /// <summary>The program (the first argument, unexpanded).</summary>
    public string Program => _args[0];

    /// <summary>True when an argument uses <c>{localpart}</c> or <c>{domain}</c> (meaningful only per recipient).</summary>
    public bool UsesRecipientParts => _args.Any(a => UsedMacros(a).Any(m => m is "localpart" or "domain"));

    /// <summary>Parses the arguments; null and a reason when a macro is unknown or a brace unmatched.</summary>
    public static CommandTemplate? TryParse(IReadOnlyList<string> args, out string? problem)
    {
        if (args.Count == 0 || args[0].Length == 0)
        {
            problem = "needs at least the program to run";
            return null;
        }
        if (args[0].Contains('{', StringComparison.Ordinal))
        {
            problem = "the program (first argument) must not contain macros";
            return null;
        }
        foreach (var arg in args)
        {
            if (arg.Contains('\0', StringComparison.Ordinal))
            {
                problem = "arguments must not contain NUL";
                return null;
            }
            try
            {
                foreach (var macro in UsedMacros(arg))
                {
                    if (Array.IndexOf(Macros, macro) < 0)
                    {
                        problem = $"unknown macro '{{{macro}}}' in '{arg}'; known: {string.Join(", ", Macros.Select(m => "{" + m + "}"))}";
                        return null;
                    }
                }
            }
            catch (FormatException e)
            {
                problem = $"'{arg}': {e.Message}";
                return null;
            }
        }
        problem = null;
        return new CommandTemplate(args.ToList());
    }

    /// <summary>
    /// The argv for <paramref name="recipients"/> (one recipient when run per recipient), or null
    /// when a value cannot be passed safely (NUL or line break).
    /// </summary>
    public IReadOnlyList<string>? Expand(Envelope envelope, IReadOnlyList<string> recipients)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["sender"] = envelope.Sender,
            ["recipient"] = string.Join(',', recipients),
            ["localpart"] = recipients.Count == 1 ? LocalPart(recipients[0]) : string.Empty,
            ["domain"] = recipients.Count == 1 ? Envelope.DomainOf(recipients[0]).ToLowerInvariant() : string.Empty,
            ["id"] = envelope.Id ?? string.Empty,
            ["message_id"] = envelope.Message.GetHeader("Message-Id")?.Trim().TrimStart('<').TrimEnd('>') ?? string.Empty,
            ["client_ip"] = envelope.Client.Address?.ToString() ?? string.Empty,
            ["client_host"] = envelope.Client.ReverseDns ?? string.Empty,
            ["ehlo"] = envelope.Client.EhloName ?? string.Empty,
            ["protocol"] = envelope.Client.Protocol,
            ["auth"] = envelope.Client.AuthenticatedUser ?? string.Empty,
        };
        if (values.Values.Any(v => v.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0) || recipients.Any(r => r.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0))
        {
            return null;
        }
        var argv = new List<string>(_args.Count + recipients.Count);
        foreach (var arg in _args)
        {
            if (arg == "{recipient}" && recipients.Count > 1)
            {
                argv.AddRange(recipients);
                continue;
            }
            argv.Add(Substitute(arg, values));
        }
        return argv;
    }

    private static string LocalPart(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 ? address : address[..at];
    }

    private static string Substitute(string arg, Dictionary<string, string> values)
    {
        var result = new StringBuilder(arg.Length);
        for (int i = 0; i < arg.Length; i++)
        {
            char c = arg[i];
            if (c == '{' && i + 1 < arg.Length && arg[i + 1] == '{')
            {
                result.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < arg.Length && arg[i + 1] == '}')
            {
                result.Append('}');
                i++;
            }
            else if (c == '{')
            {
                int close = arg.IndexOf('}', i + 1);
                result.Append(values[arg[(i + 1)..close]]);
                i = close;
            }
            else
            {
                result.Append(c);
            }
        }
        return result.ToString();
    }

    private static IEnumerable<string> UsedMacros(string arg)
    {
        var found = new List<string>();
        for (int i = 0; i < arg.Length; i++)
        {
            char c = arg[i];
            if ((c == '{' || c == '}') && i + 1 < arg.Length && arg[i + 1] == c)
            {
                i++;
            }
            else if (c == '{')
            {
                int close = arg.IndexOf('}', i + 1);
                if (close < 0)
                {
                    throw new FormatException($"'{{' at position {i} is not closed");
                }
                found.Add(arg[(i + 1)..close]);
                i = close;
            }
            else if (c == '}')
            {
                throw new FormatException($"'}}' at position {i} has no opening '{{'");
            }
        }
        return found;
    }
}
