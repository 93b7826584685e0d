using System.Text;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>Header fields of a message located in its bytes, to remove some of them byte-exactly.</summary>
internal static class HeaderFields
{
    /// <summary>Each field as (start, length, name, unfolded value), continuation lines and line end included.</summary>
    public static List<(int Start, int Length, string Name, string Value)> Read(RawMessage message)
    {
        var fields = new List<(int, int, string, string)>();
        var span = message.Bytes.Span;
        int end = message.HeaderLength;
        int pos = 0, start = -1;
        void Add(int stop)
        {
            var field = message.Bytes.Span[start..stop];
            int colon = field.IndexOf((byte)':');
            if (colon > 0)
            {
                var name = Encoding.ASCII.GetString(field[..colon]).Trim();
                var value = Encoding.UTF8.GetString(field[(colon + 1)..]).Replace("\r\n", string.Empty).Replace("\n", string.Empty).Trim();
                fields.Add((start, stop - start, name, value));
            }
        }
        while (pos < end)
        {
            int nl = span[pos..end].IndexOf((byte)'\n');
            int next = nl < 0 ? end : pos + nl + 1;
            if (span[pos] is not ((byte)' ' or (byte)'\t'))
            {
                if (start >= 0)
                {
                    Add(pos);
                }
                start = pos;
            }
            pos = next;
        }
        if (start >= 0)
        {
            Add(end);
        }
        return fields;
    }

    /// <summary>A new message without the given fields (from <see cref="Read"/>, in order).</summary>
    public static RawMessage Remove(RawMessage message, IReadOnlyList<(int Start, int Length, string Name, string Value)> remove)
    {
        if (remove.Count == 0)
        {
            return message;
        }
        var span = message.Bytes.Span;
        var result = new byte[message.Length - remove.Sum(r => r.Length)];
        int src = 0, dst = 0;
        foreach (var (start, length, _, _) in remove)
        {
            span[src..start].CopyTo(result.AsSpan(dst));
            dst += start - src;
            src = start + length;
        }
        span[src..].CopyTo(result.AsSpan(dst));
        return new RawMessage(result);
    }
}
