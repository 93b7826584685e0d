using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Local;

/// <summary>
/// Builds the command relays (see <see cref="PipeRelay"/>):
/// <list type="bullet">
/// <item><c>pipe</c>: <c>args</c> (required list; the program then its arguments, with the
/// macros of <see cref="CommandTemplate"/>), <c>per_recipient</c> (false: one run per envelope;
/// true: one run per recipient), <c>timeout</c> (seconds, 60).</item>
/// <item><c>maildrop</c>: <c>path</c> (<c>maildrop</c>), <c>extra_args</c> (list, macros
/// allowed), <c>timeout</c>; runs <c>path -f {sender} extra_args…</c> once per recipient.</item>
/// <item><c>dovecot</c>: <c>path</c> (<c>/usr/lib/dovecot/dovecot-lda</c>), <c>extra_args</c>,
/// <c>timeout</c>; runs <c>path -f {sender} -a {recipient} extra_args…</c> once per recipient.</item>
/// </list>
/// A program path containing <c>/</c> is relative to the configuration file's directory; a bare
/// name is looked up in PATH.
/// </summary>
internal sealed class CommandRelayFactory : IComponentFactory<IRelay>
{
    private readonly string _type;

    public CommandRelayFactory(string type) => _type = type;

    public void Validate(ComponentOptions options) => Read(options);

    public IRelay Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (args, perRecipient, timeout) = Read(options);
        if (args[0].Contains('/', StringComparison.Ordinal))
        {
            args[0] = context.ResolvePath(args[0]);
        }
        var template = CommandTemplate.TryParse(args, out _)!;
        return new PipeRelay(_type, template, perRecipient, timeout, context.Time, context.Loggers);
    }

    private (List<string> Args, bool PerRecipient, TimeSpan Timeout) Read(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> args;
        bool perRecipient = true;
        string argsKey;
        if (_type == "pipe")
        {
            options.RequireKnownKeys("type", "args", "per_recipient", "timeout");
            argsKey = "args";
            args = [.. options.GetStringList("args")];
            if (args.Count == 0)
            {
                throw options.Map.ContainsKey("args") ? options.Error("args", "must name the program to run") : options.Error(null, "the key 'args' is required");
            }
            perRecipient = options.GetBoolean("per_recipient", false);
        }
        else
        {
            options.RequireKnownKeys("type", "path", "extra_args", "timeout");
            argsKey = "extra_args";
            var path = options.GetString("path") ?? (_type == "dovecot" ? "/usr/lib/dovecot/dovecot-lda" : "maildrop");
            if (path.Length == 0)
            {
                throw options.Error("path", "must not be empty");
            }
            args = _type == "dovecot" ? [path, "-f", "{sender}", "-a", "{recipient}"] : [path, "-f", "{sender}"];
            args.AddRange(options.GetStringList("extra_args"));
        }
        if (CommandTemplate.TryParse(args, out var problem) is not { } template)
        {
            throw options.Error(argsKey, problem!);
        }
        if (!perRecipient && template.UsesRecipientParts)
        {
            throw options.Error(argsKey, "{localpart} and {domain} need per_recipient: true");
        }
        var timeout = options.GetSeconds("timeout", TimeSpan.FromSeconds(60));
        if (timeout <= TimeSpan.Zero)
        {
            throw options.Error("timeout", "must be more than 0 seconds");
        }
        return (args, perRecipient, timeout);
    }
}
