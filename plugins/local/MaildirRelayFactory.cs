using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Local;

/// <summary>
/// Builds <see cref="MaildirRelay"/>. Keys: <c>path</c> (required; the root of the mailboxes,
/// relative to the configuration file's directory), <c>mailbox</c> (template of the mailbox
/// directory under <c>path</c>, default <c>{localpart}</c>), <c>create</c> (create missing
/// mailboxes, default true; when false, mail to a mailbox that does not exist is refused with 550).
/// </summary>
internal sealed class MaildirRelayFactory : IComponentFactory<IRelay>
{
    private const string PathKey = "path";
    private const string MailboxKey = "mailbox";
    private const string CreateKey = "create";

    public void Validate(ComponentOptions options) => Read(options);

    public IRelay Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (path, template, create) = Read(options);
        return new MaildirRelay(context.ResolvePath(path), template, create, context.Hostname, context.Time, context.Loggers);
    }

    private static (string Path, MailboxTemplate Template, bool Create) Read(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", PathKey, MailboxKey, CreateKey);
        var path = options.GetRequiredString(PathKey);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw options.Error(PathKey, "must not contain NUL");
        }
        var text = options.GetString(MailboxKey) ?? MailboxTemplate.Default;
        var template = MailboxTemplate.TryParse(text, out var problem)
            ?? throw options.Error(MailboxKey, $"'{text}' is not a valid mailbox template: {problem}");
        var create = options.GetBoolean(CreateKey, true);
        return (path, template, create);
    }
}
