using System.Text;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Local;

/// <summary>
/// Delivers by running a program with the message on standard input (the <c>pipe</c>,
/// <c>maildrop</c> and <c>dovecot</c> relays), once per envelope or once per recipient. The exit
/// status decides, following sysexits.h as mail delivery agents use it: 0 delivered, 75
/// (EX_TEMPFAIL) transient, 67 (EX_NOUSER) permanent 5.1.1, anything else permanent; the reply
/// text is what the program printed. A program killed on timeout, or one that could not be
/// started (a configuration problem, not a property of the message), is transient.
/// </summary>
internal sealed class PipeRelay : IRelay
{
    private const int ExTempFail = 75;
    private const int ExNoUser = 67;
    private const int MaxReplyText = 400;

    private readonly string _name;
    private readonly CommandTemplate _template;
    private readonly bool _perRecipient;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public PipeRelay(string name, CommandTemplate template, bool perRecipient, TimeSpan timeout, TimeProvider time, ILoggerFactory loggers)
    {
        _name = name;
        _template = template;
        _perRecipient = perRecipient;
        _timeout = timeout;
        _time = time;
        _logger = loggers.CreateLogger("Slimta.Plugins.Local." + name);
    }

    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        int count = envelope.Recipients.Count;
        if (count == 0)
        {
            return new RelayResult([]);
        }
        if (!_perRecipient)
        {
            var result = await RunAsync(envelope, envelope.Recipients, cancellationToken).ConfigureAwait(false);
            return RelayResult.ForAll(count, result.Outcome, result.Reply);
        }
        var results = new RecipientResult[count];
        for (int i = 0; i < count; i++)
        {
            results[i] = await RunAsync(envelope, [envelope.Recipients[i]], cancellationToken).ConfigureAwait(false);
        }
        return new RelayResult(results);
    }

    private async Task<RecipientResult> RunAsync(Envelope envelope, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        var argv = _template.Expand(envelope, recipients);
        if (argv is null)
        {
            return new RecipientResult(DeliveryOutcome.PermanentFailure, new Reply(550, "5.1.3", "the address cannot be passed to the delivery program (control characters)"));
        }
        var run = await CommandRunner.RunAsync(argv, envelope.Message.Bytes, _timeout, _time, cancellationToken).ConfigureAwait(false);
        var words = Summarize(run.Output);
        if (run.StartError is not null)
        {
            _logger.LogError("{Relay}: cannot run {Program}: {Error}", _name, _template.Program, run.StartError);
            return new RecipientResult(DeliveryOutcome.TransientFailure, new Reply(451, "4.3.0", $"cannot run {_template.Program}: {run.StartError}"));
        }
        if (run.TimedOut)
        {
            _logger.LogWarning("{Relay}: {Program} for {Id} killed after {Timeout}", _name, _template.Program, envelope.Id, _timeout);
            return new RecipientResult(DeliveryOutcome.TransientFailure, new Reply(451, "4.4.2", $"{Path.GetFileName(_template.Program)} timed out after {_timeout.TotalSeconds:0.###} s"));
        }
        int code = run.ExitCode!.Value;
        _logger.LogInformation("{Relay}: {Program} for {Id} exited with {Code}", _name, _template.Program, envelope.Id, code);
        var program = Path.GetFileName(_template.Program);
        return code switch
        {
            0 => new RecipientResult(DeliveryOutcome.Delivered, new Reply(250, "2.0.0", words.Length > 0 ? words : $"delivered by {program}")),
            ExTempFail => new RecipientResult(DeliveryOutcome.TransientFailure, new Reply(450, "4.3.0", words.Length > 0 ? words : $"{program} exited with status 75 (try again later)")),
            ExNoUser => new RecipientResult(DeliveryOutcome.PermanentFailure, new Reply(550, "5.1.1", words.Length > 0 ? words : $"{program}: no such user")),
            _ => new RecipientResult(DeliveryOutcome.PermanentFailure, new Reply(550, "5.3.0", words.Length > 0 ? words : $"{program} exited with status {code}")),
        };
    }

    /// <summary>The program's output as one line of reply text: control characters replaced, bounded.</summary>
    private static string Summarize(string output)
    {
        var text = new StringBuilder(Math.Min(output.Length, MaxReplyText));
        foreach (var line in output.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }
            if (text.Length > 0)
            {
                text.Append("; ");
            }
            foreach (char c in trimmed)
            {
                text.Append(char.IsControl(c) ? ' ' : c);
            }
            if (text.Length >= MaxReplyText)
            {
                break;
            }
        }
        return text.Length > MaxReplyText ? text.ToString(0, MaxReplyText) + "..." : text.ToString();
    }
}
