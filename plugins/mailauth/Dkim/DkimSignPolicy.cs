using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Cryptography;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.MailAuth.Dkim;

/// <summary>
/// <c>dkim_sign</c> (a relay-time policy): prepends one <c>DKIM-Signature</c> (RFC 6376) per key of
/// the domain of the <c>From:</c> header to the copy handed to the relay.
/// <para>
/// It signs the bytes that go on the wire: the relay gets the envelope's message after every
/// relay-time policy, and the SMTP client only dot-stuffs it (RFC 5321 §4.5.2, undone by the
/// receiver) and adds a final CRLF when it is missing (which the body canonicalization ignores).
/// Every other byte stays as stored: MimeKit computes the signature on its parsed copy, only the
/// new header is added to the stored bytes, and a body hash computed here on those bytes must
/// match MimeKit's, or the message goes out unsigned with a warning (a signature known to be
/// broken is worse than none). Policies after <c>dkim_sign</c> may still change signed headers
/// and break the signature, so it must be the last policy of the relay (documented).
/// </para>
/// <para>
/// Signing domain: the keys of the From domain, else of its closest parent domain in
/// <c>domains</c>, else <c>default</c>; a message without a From mailbox, or from a domain without a
/// key, is passed on unsigned. The body length tag <c>l=</c> is never used (it lets anyone append
/// content to a signed message). Signed fields a message has at most once are over-signed
/// (see <see cref="SignedHeaders"/>).
/// </para>
/// </summary>
internal sealed class DkimSignPolicy(
    DkimSignSettings settings,
    IReadOnlyDictionary<string, IReadOnlyList<DkimKey>> domains,
    IReadOnlyList<DkimKey> fallback,
    TimeProvider time,
    ILogger log) : IRelayPolicy
{
    private static readonly FormatOptions WireFormat = CreateFormat();

    public async ValueTask ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var raw = envelope.Message;
        MimeMessage message;
        using (var stream = Open(raw.Bytes))
        {
            try
            {
                message = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            catch (FormatException)
            {
                // No header section (an empty message, a first line that is not a field): no From
                // to sign for. It goes out as it is, like any message without a key.
                log.LogDebug("id={Id} not DKIM-signed: no header section", envelope.Id);
                return;
            }
        }
        var from = FromDomain(message);
        var keys = from is null ? [] : KeysFor(from);
        if (keys.Count == 0)
        {
            log.LogDebug("id={Id} not DKIM-signed: no key for the From domain {Domain}", envelope.Id, from ?? "(none)");
            return;
        }
        var bodyStart = BodyStart(raw);
        var signed = SignedHeaders(settings.Headers, message.Headers);
        var fields = new List<byte[]>();
        foreach (var key in keys)
        {
            var signer = new ClockedDkimSigner(key.PrivateKey, key.Domain, key.Selector, key.Algorithm, time)
            {
                HeaderCanonicalizationAlgorithm = settings.HeaderCanonicalization,
                BodyCanonicalizationAlgorithm = settings.BodyCanonicalization,
            };
            signer.Sign(WireFormat, message, signed);
            var header = message.Headers[0];
            message.Headers.RemoveAt(0);
            var expected = DkimBodyHash.Compute(raw.Bytes.Span[bodyStart..], settings.BodyCanonicalization);
            if (!string.Equals(Tag(header.Value, "bh"), expected, StringComparison.Ordinal))
            {
                log.LogWarning("id={Id} not DKIM-signed: MimeKit would have signed a different body than the bytes sent (d={Domain} s={Selector})", envelope.Id, key.Domain, key.Selector);
                return;
            }
            fields.Add(Serialize(header));
        }
        envelope.Message = Prepend(raw, fields);
    }

    /// <summary>
    /// Fields a message has at most once (RFC 5322 §3.6, RFC 2045, RFC 2369/2919/8058): these are
    /// over-signed. Others (Received and other trace fields, Resent-*, Comments, X-…) may be added
    /// on top by later hops and are not.
    /// </summary>
    private static readonly HashSet<string> OnceOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-ID", "Content-Description", "Content-Disposition",
        "List-Id", "List-Help", "List-Subscribe", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Post", "List-Owner", "List-Archive",
    };

    /// <summary>
    /// The <c>h=</c> list: each configured name once per instance in the message; for a field a
    /// message has at most once, once more (over-signing, RFC 6376 §5.4.2 and §8.15). A verifier
    /// hashes instances bottom-up and an extra name stands for "no further instance", so a second
    /// From, Subject or To added later (on top, where readers look) breaks the signature, while a
    /// Received added by the next hop does not. An absent name is listed once: it may not be
    /// added either.
    /// </summary>
    internal static List<string> SignedHeaders(IReadOnlyList<string> names, HeaderList headers)
    {
        var list = new List<string>();
        foreach (var name in names)
        {
            int present = headers.Count(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase));
            list.AddRange(Enumerable.Repeat(name, present == 0 ? 1 : OnceOnly.Contains(name) ? present + 1 : present));
        }
        return list;
    }

    /// <summary>The lower-case ASCII domain of the first From mailbox, or null.</summary>
    internal static string? FromDomain(MimeMessage message)
    {
        var mailbox = message.From.Mailboxes.FirstOrDefault();
        return mailbox is null || mailbox.Domain.Length == 0 ? null : DkimSignSettings.NormalizeDomain(mailbox.Domain);
    }

    private IReadOnlyList<DkimKey> KeysFor(string domain)
    {
        for (var d = domain; d.Length > 0; d = d.IndexOf('.') is var dot and >= 0 ? d[(dot + 1)..] : string.Empty)
        {
            if (domains.TryGetValue(d, out var keys))
            {
                return keys;
            }
        }
        return fallback;
    }

    /// <summary>Where the body starts: after the header section and its blank line.</summary>
    private static int BodyStart(RawMessage raw)
    {
        var span = raw.Bytes.Span;
        int pos = raw.HeaderLength;
        if (span[pos..].StartsWith("\r\n"u8))
        {
            return pos + 2;
        }
        return span[pos..].StartsWith("\n"u8) ? pos + 1 : pos;
    }

    /// <summary>The value of tag <paramref name="name"/> of a tag list (RFC 6376 §3.2) without white space.</summary>
    internal static string? Tag(string tagList, string name)
    {
        foreach (var part in tagList.Split(';'))
        {
            int eq = part.IndexOf('=');
            if (eq > 0 && part[..eq].Trim().Equals(name, StringComparison.Ordinal))
            {
                return string.Concat(part[(eq + 1)..].Where(c => !char.IsWhiteSpace(c)));
            }
        }
        return null;
    }

    /// <summary>The header field exactly as MimeKit hashed it (its own folding, CRLF line ends).</summary>
    private static byte[] Serialize(Header header)
    {
        var list = new HeaderList { header };
        using var stream = new MemoryStream();
        list.WriteTo(WireFormat, stream);
        var bytes = stream.ToArray();
        // HeaderList.WriteTo ends the header section with its blank line; the field ends before it.
        return bytes.AsSpan().EndsWith("\r\n\r\n"u8) ? bytes[..^2] : bytes;
    }

    private static RawMessage Prepend(RawMessage raw, List<byte[]> fields)
    {
        var result = new byte[fields.Sum(f => f.Length) + raw.Length];
        int pos = 0;
        // The first key's signature ends on top; order has no meaning to verifiers.
        foreach (var field in fields)
        {
            field.CopyTo(result, pos);
            pos += field.Length;
        }
        raw.Bytes.Span.CopyTo(result.AsSpan(pos));
        return new RawMessage(result);
    }

    private static MemoryStream Open(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        // SMTP lines end with CRLF; the signature's own folding must too.
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
