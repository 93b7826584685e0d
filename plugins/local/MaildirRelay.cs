using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Abstractions.Threading;

namespace Slimta.Plugins.Local;

/// <summary>
/// Delivers each recipient's copy as one file in a Maildir (https://cr.yp.to/proto/maildir.html):
/// written to <c>&lt;mailbox&gt;/tmp/&lt;unique&gt;</c>, fsynced, then renamed to
/// <c>&lt;mailbox&gt;/new/&lt;unique&gt;</c>, so a reader never sees a partial message and a crash
/// leaves at most a stray file in <c>tmp/</c>. Each copy starts with <c>Return-Path</c> and
/// <c>Delivered-To</c> (RFC 5321 §4.4: the final delivery adds the return path), followed by the
/// message bytes exactly as received.
/// </summary>
internal sealed partial class MaildirRelay : IRelay
{
    internal static readonly Reply DeliveredReply = new(250, "2.0.0", "Ok: delivered to maildir");
    internal static readonly Reply IoFailureReply = new(451, "4.3.0", "Local delivery failed, try again later");
    internal static readonly Reply InvalidMailboxReply = new(550, "5.1.1", "Invalid mailbox");
    internal static readonly Reply NoSuchMailboxReply = new(550, "5.1.1", "No such mailbox");

    /// <summary>
    /// The fsyncs and renames of every maildir relay in the process: blocking calls, kept off the
    /// thread pool (one worker per core there). Background threads that live as long as the process.
    /// </summary>
    private static readonly Lazy<BlockingWorkers> Sync = new(() => new BlockingWorkers(4, "slimta-maildir-sync"));

    private readonly string _root;
    private readonly MailboxTemplate _template;
    private readonly bool _create;
    private readonly string _hostname;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public MaildirRelay(string root, MailboxTemplate template, bool create, string hostname, TimeProvider time, ILoggerFactory loggers)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _template = template;
        _create = create;
        _hostname = EscapeHostname(hostname);
        _time = time;
        _logger = loggers.CreateLogger("Slimta.Plugins.Local.Maildir");
    }

    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var results = new RecipientResult[envelope.Recipients.Count];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = await DeliverAsync(envelope, envelope.Recipients[i], cancellationToken).ConfigureAwait(false);
        }
        // No remote host: the DSN Remote-MTA field is for a next hop, and this is final delivery.
        return new RelayResult(results);
    }

    private async ValueTask<RecipientResult> DeliverAsync(Envelope envelope, string recipient, CancellationToken cancellationToken)
    {
        var mailbox = MailboxDirectory(recipient);
        if (mailbox is null)
        {
            return new RecipientResult(DeliveryOutcome.PermanentFailure, InvalidMailboxReply);
        }

        string tmpDir = Path.Combine(mailbox, "tmp");
        string newDir = Path.Combine(mailbox, "new");
        string? tmpFile = null;
        try
        {
            if (_create)
            {
                // cur/ is created too: Maildir readers expect all three.
                Directory.CreateDirectory(tmpDir);
                Directory.CreateDirectory(newDir);
                Directory.CreateDirectory(Path.Combine(mailbox, "cur"));
            }
            else if (!Directory.Exists(tmpDir) || !Directory.Exists(newDir))
            {
                // A missing root is this server's problem (not mounted, misconfigured), not the recipient's.
                return Directory.Exists(_root)
                    ? new RecipientResult(DeliveryOutcome.PermanentFailure, NoSuchMailboxReply)
                    : Transient(new DirectoryNotFoundException($"Maildir root '{_root}' does not exist."), recipient);
            }

            // Envelope.Sender has no brackets; Return-Path carries the reverse-path with them,
            // "<>" for the null sender (RFC 5321 §4.4).
            var message = envelope.Message
                .PrependHeader("Delivered-To", recipient)
                .PrependHeader("Return-Path", "<" + envelope.Sender + ">");

            string unique = UniqueName();
            tmpFile = Path.Combine(tmpDir, unique);
            var stream = new FileStream(tmpFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(message.Bytes, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                // Maildir: the file must be on disk before it appears in new/.
                await Sync.Value.RunAsync(() => stream.Flush(flushToDisk: true)).ConfigureAwait(false);
            }
            string from = tmpFile;
            await Sync.Value.RunAsync(() =>
            {
                File.Move(from, Path.Combine(newDir, unique), overwrite: false);
                DirectorySync.Flush(newDir);
            }).ConfigureAwait(false);
            tmpFile = null;
            return new RecipientResult(DeliveryOutcome.Delivered, DeliveredReply);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Transient(ex, recipient);
        }
        finally
        {
            if (tmpFile is not null)
            {
                TryDelete(tmpFile);
            }
        }
    }

    private RecipientResult Transient(Exception ex, string recipient)
    {
        LogDeliveryFailed(_logger, ex, recipient);
        return new RecipientResult(DeliveryOutcome.TransientFailure, IoFailureReply);
    }

    /// <summary>The absolute mailbox directory, or null when the recipient cannot name one inside the root.</summary>
    internal string? MailboxDirectory(string recipient)
    {
        var relative = _template.Expand(recipient);
        if (relative is null)
        {
            return null;
        }
        var full = Path.GetFullPath(Path.Combine(_root, relative));
        // Defence in depth behind the template's own checks: the result must be below the root.
        return full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
    }

    /// <summary>
    /// time.MusecPpidRrandom.hostname: seconds, microseconds, process id and 64 random bits make
    /// the name unique across processes and deliveries in the same microsecond, as the Maildir
    /// spec asks; the host name tells machines sharing one Maildir apart.
    /// </summary>
    private string UniqueName()
    {
        var now = _time.GetUtcNow();
        long seconds = now.ToUnixTimeSeconds();
        long micros = (now.UtcTicks % TimeSpan.TicksPerSecond) / 10;
        string random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        return string.Create(CultureInfo.InvariantCulture, $"{seconds}.M{micros}P{Environment.ProcessId}R{random}.{_hostname}");
    }

    /// <summary>Maildir: '/' and ':' in the host name are written as \057 and \072.</summary>
    private static string EscapeHostname(string hostname)
    {
        var name = string.IsNullOrEmpty(hostname) ? "localhost" : hostname;
        return name.Replace("/", "\\057", StringComparison.Ordinal).Replace(":", "\\072", StringComparison.Ordinal);
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(_logger, ex, path);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Maildir delivery to {Recipient} failed; will be retried")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, string recipient);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Could not remove the temporary file {Path}")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string path);
}
