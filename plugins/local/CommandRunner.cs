using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Slimta.Plugins.Local;

/// <summary>
/// Runs one program with the message on standard input, under a timeout measured on the relay's
/// <see cref="TimeProvider"/>. On timeout the whole process tree is killed (a delivery agent may
/// have started helpers). Standard output and error are read concurrently (so a chatty program
/// cannot block on a full pipe) and kept up to <see cref="MaxOutput"/> characters.
/// </summary>
internal static class CommandRunner
{
    public const int MaxOutput = 4096;

    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(2);

    public static async Task<CommandResult> RunAsync(IReadOnlyList<string> argv, ReadOnlyMemory<byte> input, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        for (int i = 1; i < argv.Count; i++)
        {
            psi.ArgumentList.Add(argv[i]);
        }
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new CommandResult(null, false, string.Empty, e.Message);
        }

        var output = new StringBuilder();
        var outputLock = new Lock();
        var stdout = PumpAsync(process.StandardOutput, output, outputLock);
        var stderr = PumpAsync(process.StandardError, output, outputLock);
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        bool timedOut = false;
        try
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(input, linked.Token).ConfigureAwait(false);
                await process.StandardInput.BaseStream.FlushAsync(linked.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The program exited (or closed its input) without reading everything; its exit
                // status says whether that was a delivery or a failure.
            }
            finally
            {
                try
                {
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                }
            }
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            // A background child may hold the output pipes open after the program exited; the
            // exit status is what counts, so wait only briefly for the rest of the output.
            var pumps = Task.WhenAll(stdout, stderr);
            await Task.WhenAny(pumps, Task.Delay(OutputGrace, time, linked.Token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited on its own meanwhile.
            }
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            if (!timedOut)
            {
                throw;
            }
        }
        string text;
        lock (outputLock)
        {
            text = output.ToString();
        }
        return new CommandResult(timedOut ? null : process.ExitCode, timedOut, text, null);
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder output, Lock outputLock)
    {
        var buffer = new char[1024];
        while (true)
        {
            int n = await reader.ReadAsync(buffer).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }
            lock (outputLock)
            {
                int room = MaxOutput - output.Length;
                if (room > 0)
                {
                    output.Append(buffer, 0, Math.Min(n, room));
                }
            }
        }
    }
}
