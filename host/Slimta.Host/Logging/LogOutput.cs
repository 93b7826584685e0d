using System.Collections.Concurrent;
using System.Text;

namespace Slimta.Host.Logging;

/// <summary>
/// Where log lines go (<c>process.NAME.logging.target</c>): standard output, standard error or
/// a file opened for appending. Lines are queued and written by one background thread, so a
/// session or an attempt never waits for the disk or the terminal unless the queue is full
/// (then it waits: a log line is never silently dropped). The queue is flushed whenever it runs
/// empty, and on <see cref="Dispose"/>.
/// <para>
/// Log rotation: after <c>logrotate</c> (or anyone) moves the file away, <see cref="Reopen"/>
/// makes the writer close it and open the configured path again before the next line — call it
/// from a SIGHUP handler. Standard output and error are not reopened (the process does not own them).
/// </para>
/// </summary>
public sealed class LogOutput : IDisposable
{
    private const int Capacity = 8192;

    // Queued like a line, so a reopen happens after every line written before it (a flag could
    // overtake lines still queued and put them in the new file).
    private static readonly string ReopenMarker = new('\0', 1);

    private readonly BlockingCollection<string> _lines = new(new ConcurrentQueue<string>(), Capacity);
    private readonly Thread _thread;
    private readonly string? _path;
    private readonly bool _stderr;
    private TextWriter? _file;
    private bool _disposed;

    private LogOutput(string? path, bool stderr)
    {
        _path = path;
        _stderr = stderr;
        if (path is not null)
        {
            _file = OpenFile(path);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "slimta log writer" };
        _thread.Start();
    }

    /// <summary>The file written to, or null for standard output or error.</summary>
    public string? Path => _path;

    /// <summary>Writes to the process's standard output (as <see cref="Console.Out"/> is when each line is written).</summary>
    public static LogOutput Stdout() => new(null, stderr: false);

    /// <summary>Writes to standard error.</summary>
    public static LogOutput Stderr() => new(null, stderr: true);

    /// <summary>Appends to <paramref name="path"/> (created when missing). Throws IOException or UnauthorizedAccessException when it cannot be opened.</summary>
    public static LogOutput File(string path) => new(path, stderr: false);

    /// <summary>Queues one line (without its newline).</summary>
    public void Write(string line)
    {
        try
        {
            _lines.Add(line);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Disposed (the process is stopping): a late line from a background task is lost.
        }
    }

    /// <summary>
    /// Closes the file and opens the configured path again, after the lines already queued (call it
    /// after log rotation moved the file). Does nothing for stdout/stderr.
    /// </summary>
    public void Reopen()
    {
        if (_path is not null)
        {
            Write(ReopenMarker);
        }
    }

    /// <summary>Writes what is queued, flushes and closes the file.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _lines.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
        _file?.Dispose();
        _lines.Dispose();
    }

    private static StreamWriter OpenFile(string path) =>
        new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete), new UTF8Encoding(false), 16384)
        {
            AutoFlush = false,
        };

    private void Run()
    {
        foreach (var line in _lines.GetConsumingEnumerable())
        {
            if (ReferenceEquals(line, ReopenMarker))
            {
                ReopenFile();
                continue;
            }
            var writer = Current();
            try
            {
                writer.WriteLine(line);
                if (_lines.Count == 0)
                {
                    writer.Flush();
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // A full disk or a closed stream must not take the process down; say it once
                // where someone may see it and keep going (the next line tries again).
                TryWarn($"slimta: could not write the log: {e.Message}");
            }
        }
        try
        {
            Current().Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            TryWarn($"slimta: could not flush the log: {e.Message}");
        }
    }

    private TextWriter Current() => _path is null ? (_stderr ? Console.Error : Console.Out) : _file!;

    private void ReopenFile()
    {
        try
        {
            var fresh = OpenFile(_path!);
            try
            {
                _file?.Dispose();
            }
            catch (IOException e)
            {
                TryWarn($"slimta: could not close the old log file: {e.Message}");
            }
            _file = fresh;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryWarn($"slimta: could not reopen the log file {_path}: {e.Message}; still writing to the old one");
        }
    }

    private static void TryWarn(string text)
    {
        try
        {
            Console.Error.WriteLine(text);
        }
        catch (IOException)
        {
            // Nowhere left to say it.
        }
    }
}
