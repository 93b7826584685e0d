using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Slimta.Host.Edge.Spam;

/// <summary>
/// A SPAMC/1.5 client for SpamAssassin's spamd: one connection per message, the <c>CHECK</c>
/// command (verdict only, the message is not rewritten). The protocol is spamd's own
/// (spamd/PROTOCOL in SpamAssassin's sources): a request line, <c>Content-length</c>, an empty
/// line and the message; the answer is <c>SPAMD/1.1 0 EX_OK</c> and a
/// <c>Spam: True ; 1000.0 / 5.0</c> header. (The <c>spamassassin</c> queue policy has a client
/// of its own in plugins/policies.)
/// </summary>
public sealed class SpamdClient
{
    private const int MaxAnswer = 64 * 1024;
    private readonly SpamdSettings _settings;
    private readonly TimeProvider _time;

    /// <summary>Creates a client.</summary>
    public SpamdClient(SpamdSettings settings, TimeProvider time)
    {
        _settings = settings;
        _time = time;
    }

    /// <summary>Asks spamd for a verdict on <paramref name="message"/>; throws <see cref="SpamdException"/> when it cannot give one.</summary>
    public async Task<SpamVerdict> CheckAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_settings.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(_settings.Host, _settings.Port, linked.Token).ConfigureAwait(false);
            var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"CHECK SPAMC/1.5\r\nContent-length: {message.Length}\r\nUser: slimta\r\n\r\n"));
            await socket.SendAsync(head, SocketFlags.None, linked.Token).ConfigureAwait(false);
            int sent = 0;
            while (sent < message.Length)
            {
                sent += await socket.SendAsync(message[sent..], SocketFlags.None, linked.Token).ConfigureAwait(false);
            }
            // spamd reads Content-length bytes; closing our side tells older versions we are done.
            socket.Shutdown(SocketShutdown.Send);
            var answer = new MemoryStream();
            var buffer = new byte[4096];
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                answer.Write(buffer, 0, n);
                if (answer.Length > MaxAnswer)
                {
                    throw new SpamdException("spamd's answer is too long");
                }
            }
            return Parse(Encoding.ASCII.GetString(answer.GetBuffer(), 0, (int)answer.Length));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SpamdException($"spamd at {_settings.Host}:{_settings.Port} did not answer within {_settings.Timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException ex)
        {
            throw new SpamdException($"spamd at {_settings.Host}:{_settings.Port} cannot be reached: {ex.SocketErrorCode}", ex);
        }
    }

    /// <summary>Reads a CHECK answer: the status line must be <c>SPAMD/x.y 0 EX_OK</c> and a <c>Spam:</c> header present.</summary>
    public static SpamVerdict Parse(string answer)
    {
        var lines = answer.Split("\r\n");
        var status = lines[0].Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (status.Length < 2 || !status[0].StartsWith("SPAMD/", StringComparison.Ordinal))
        {
            throw new SpamdException("spamd's answer does not start with SPAMD/");
        }
        if (status[1] != "0")
        {
            throw new SpamdException($"spamd answered {lines[0]}");
        }
        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0)
            {
                break;
            }
            if (!line.StartsWith("Spam:", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            // "Spam: True ; 1000.0 / 5.0"
            var value = line[5..].Split(';', 2);
            var scores = value.Length == 2 ? value[1].Split('/', 2) : [];
            if (scores.Length != 2
                || !double.TryParse(scores[0].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var score)
                || !double.TryParse(scores[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold))
            {
                throw new SpamdException("spamd's Spam: header is malformed");
            }
            var flag = value[0].Trim();
            bool isSpam = flag.Equals("True", StringComparison.OrdinalIgnoreCase) || flag.Equals("Yes", StringComparison.OrdinalIgnoreCase);
            return new SpamVerdict(isSpam, score, threshold);
        }
        throw new SpamdException("spamd's answer has no Spam: header");
    }
}
