using Slimta.Smtp.Spamc;
using System.Globalization;
using System.Text;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>spamassassin</c>: asks spamd about the message (SPAMC <c>SYMBOLS</c>) and prepends
/// <code>
/// X-Spam-Status: Yes, score=1000.0 required=5.0
/// X-Spam-Symbols: GTUBE,NO_RECEIVED,NO_RELAYS
/// </code>
/// in the layout of SpamAssassin's own <c>X-Spam-Status</c>. Headers of those two names that the
/// message already carries are removed first: a sender must not be able to vouch for its own mail
/// (<c>X-Spam-Status: No</c>). Nothing else in the message changes. When spamd cannot be reached,
/// times out or answers something unexpected, the policy throws, so the queue refuses the message
/// with 451 and the client tries again later — an outage never lets mail through unscanned.
/// </summary>
internal sealed class SpamAssassinPolicy(SpamcClient spamd) : IQueuePolicy
{
    /// <summary>Where SpamAssassin folds <c>X-Spam-Symbols</c> too: one header line stays readable.</summary>
    private const int FoldWidth = 76;

    public async ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var message = envelope.Message.RemoveHeader("X-Spam-Status").RemoveHeader("X-Spam-Symbols");
        // spamd scans what the recipients will see, without the forged headers.
        var verdict = await spamd.SymbolsAsync(message.Bytes, cancellationToken).ConfigureAwait(false);
        message = message.PrependHeader("X-Spam-Symbols", Symbols(verdict.Symbols));
        message = message.PrependHeader("X-Spam-Status", Status(verdict));
        envelope.Message = message;
        return null;
    }

    internal static string Status(SpamcVerdict verdict) => string.Create(CultureInfo.InvariantCulture,
        $"{(verdict.IsSpam ? "Yes" : "No")}, score={verdict.Score:0.0} required={verdict.Required:0.0}");

    /// <summary>The rule names comma-separated, folded (RFC 5322 §2.2.3) after a comma when a line would grow long.</summary>
    internal static string Symbols(IReadOnlyList<string> symbols)
    {
        var text = new StringBuilder();
        int line = "X-Spam-Symbols: ".Length;
        for (int i = 0; i < symbols.Count; i++)
        {
            var symbol = Clean(symbols[i]);
            if (symbol.Length == 0)
            {
                continue;
            }
            if (text.Length > 0)
            {
                text.Append(',');
                line++;
                if (line + symbol.Length > FoldWidth)
                {
                    text.Append("\r\n\t");
                    line = 1;
                }
            }
            text.Append(symbol);
            line += symbol.Length;
        }
        return text.ToString();
    }

    /// <summary>Rule names are atoms; anything else spamd might send must not break the header.</summary>
    private static string Clean(string symbol) =>
        new(symbol.Where(c => c is > ' ' and < (char)127 && c != ',').ToArray());
}
