using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Slimta.Smtp.Spamc;

/// <summary>
/// A minimal SPAMC/1.5 client for spamd (the protocol of SpamAssassin's <c>spamc</c>, see
/// spamd/PROTOCOL in the SpamAssassin sources): one <c>SYMBOLS</c> request per connection with a
/// <c>Content-length</c> header and the message bytes, answered by <c>SPAMD/1.x 0 EX_OK</c>, a
/// <c>Spam: True|False ; score / required</c> header and the comma-separated rule names as body.
/// Every failure (refused, reset, timeout, a reply that does not parse, a non-zero status) is an
/// exception: the caller must never mistake an outage for "not spam". Shared by the edge's
/// <c>reject_spam</c> rule and the <c>spamassassin</c> queue policy.
/// </summary>
/// <param name="host">spamd's host.</param>
/// <param name="port">spamd's port (783 by default).</param>
/// <param name="timeout">Limit for the whole exchange.</param>
/// <param name="time">The clock of the timeout.</param>
public sealed class SpamcClient(string host, int port, TimeSpan timeout, TimeProvider time)
{
    /// <summary>Upper bound on what spamd may send back for SYMBOLS (headers and a rule list).</summary>
    private const int MaxReply = 64 * 1024;

    /// <summary>
    /// Scans <paramref name="message"/>. Throws <see cref="TimeoutException"/>, <see cref="IOException"/>,
    /// <see cref="System.Net.Sockets.SocketException"/> or <see cref="InvalidDataException"/> when spamd
    /// gives no verdict.
    /// </summary>
    public async Task<SpamcVerdict> SymbolsAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await ExchangeAsync(message, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // A timeout is an outage like any other; OperationCanceledException would look like a shutdown.
            throw new TimeoutException($"spamd at {host}:{port} did not answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
    }

    private async Task<SpamcVerdict> ExchangeAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"SYMBOLS SPAMC/1.5\r\nContent-length: {message.Length}\r\n\r\n"));
        await stream.WriteAsync(head, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        // spamd reads exactly Content-length bytes; half-closing tells it (and any proxy) we are done.
        socket.Shutdown(SocketShutdown.Send);

        var reply = new ArrayBufferWriter<byte>(1024);
        while (true)
        {
            var memory = reply.GetMemory(4096);
            int n = await stream.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            reply.Advance(n);
            if (reply.WrittenCount > MaxReply)
            {
                throw new InvalidDataException($"spamd at {host}:{port} sent more than {MaxReply} bytes");
            }
        }
        return Parse(Encoding.UTF8.GetString(reply.WrittenSpan), $"{host}:{port}");
    }

    /// <summary>Parses a complete SYMBOLS reply; throws <see cref="InvalidDataException"/> for anything else.</summary>
    internal static SpamcVerdict Parse(string reply, string server)
    {
        int headerEnd = reply.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headerEnd < 0)
        {
            throw Bad(server, "no complete reply", reply);
        }
        var lines = reply[..headerEnd].Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("SPAMD/", StringComparison.Ordinal))
        {
            throw Bad(server, "not a SPAMD reply", lines[0]);
        }
        if (status[1] != "0")
        {
            // EX_* codes from sysexits.h (76 EX_PROTOCOL, 74 EX_IOERR, …): spamd could not scan.
            throw new InvalidDataException($"spamd at {server} refused the scan: {lines[0]}");
        }
        bool? spam = null;
        double score = 0, required = 0;
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || !line[..colon].Trim().Equals("Spam", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            // "Spam: True ; 1000.0 / 5.0"
            var value = line[(colon + 1)..];
            var parts = value.Split(';', 2);
            var numbers = parts.Length == 2 ? parts[1].Split('/', 2) : [];
            if (numbers.Length != 2
                || !double.TryParse(numbers[0].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out score)
                || !double.TryParse(numbers[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out required))
            {
                throw Bad(server, "a Spam header without score / required", line);
            }
            spam = parts[0].Trim().ToLowerInvariant() switch
            {
                "true" or "yes" => true,
                "false" or "no" => false,
                _ => throw Bad(server, "a Spam header that is neither True nor False", line),
            };
        }
        if (spam is null)
        {
            throw Bad(server, "no Spam header", reply[..headerEnd]);
        }
        var symbols = reply[(headerEnd + 4)..]
            .Split([',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToList();
        return new SpamcVerdict(spam.Value, score, required, symbols);
    }

    private static InvalidDataException Bad(string server, string problem, string text)
    {
        var shown = text.Length > 200 ? text[..200] + "…" : text;
        return new InvalidDataException($"spamd at {server} sent {problem}: '{shown.ReplaceLineEndings(" ")}'");
    }
}
