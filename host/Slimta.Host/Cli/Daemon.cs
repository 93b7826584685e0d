using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Slimta.Host.Cli;

/// <summary>
/// Daemon mode (<c>-d</c>, or <c>process.NAME.daemon</c>): .NET cannot fork, so the program starts
/// itself again in a new session (<c>setsid</c>) with <c>--attached</c>, and waits until the
/// background process reports that it is ready (sd_notify <c>READY=1</c> on a private socket) or
/// exits. So <c>slimta -d</c> exits 0 only once the server runs, and with the server's own exit
/// status (2 for a configuration error, …) when it could not start — the error was printed by the
/// background process on the same terminal. Once ready, the background process stops writing to
/// the terminal (its <c>stdout</c>/<c>stderr</c> go to the configured files, else nowhere).
/// </summary>
internal static class Daemon
{
    /// <summary>Set in the background process's environment.</summary>
    public const string ChildVariable = "SLIMTA_DAEMON_CHILD";

    /// <summary>How long the parent waits for the background process to be ready.</summary>
    public static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(2);

    /// <summary>True in the background process.</summary>
    public static bool IsChild => Environment.GetEnvironmentVariable(ChildVariable) == "1";

    /// <summary>Starts the background process and waits for it; returns this process's exit status.</summary>
    public static async Task<int> DetachAsync(string[] args, string program)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true };
        psi.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        }
        foreach (var a in args)
        {
            if (a is not "-d" and not "--daemon")
            {
                psi.ArgumentList.Add(a);
            }
        }
        psi.ArgumentList.Add("--attached");

        var notifyPath = Path.Combine(Path.GetTempPath(), $"slimta-ready-{Guid.NewGuid():N}.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        psi.Environment[SdNotify.Variable] = notifyPath;
        psi.Environment[ChildVariable] = "1";
        try
        {
            using var child = Process.Start(psi);
            if (child is null)
            {
                await Console.Error.WriteLineAsync($"{program}: could not start the background process");
                return 1;
            }
            child.StandardInput.Close();
            using var timeout = new CancellationTokenSource(StartupTimeout);
            var exited = child.WaitForExitAsync(timeout.Token);
            var buffer = new byte[4096];
            while (true)
            {
                var received = notify.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).AsTask();
                var first = await Task.WhenAny(received, exited);
                if (first == exited)
                {
                    if (timeout.IsCancellationRequested)
                    {
                        break;
                    }
                    return child.ExitCode == 0 ? 1 : child.ExitCode;
                }
                int n;
                try
                {
                    n = await received;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var message = Encoding.UTF8.GetString(buffer, 0, n);
                if (message.Split('\n').Contains("READY=1"))
                {
                    var pid = message.Split('\n').FirstOrDefault(l => l.StartsWith("MAINPID=", StringComparison.Ordinal))?[8..] ?? child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    Console.WriteLine($"{program}: running in the background, pid {pid}");
                    return 0;
                }
            }
            await Console.Error.WriteLineAsync($"{program}: the background process (pid {child.Id}) did not report ready within {StartupTimeout.TotalSeconds:0} s; it keeps running");
            return 1;
        }
        finally
        {
            File.Delete(notifyPath);
        }
    }

    /// <summary>In the background process, once ready: stop writing to the terminal it was started from.</summary>
    public static void LeaveTerminal(bool keepStdout, bool keepStderr)
    {
        if (!keepStdout)
        {
            Console.SetOut(TextWriter.Null);
        }
        if (!keepStderr)
        {
            Console.SetError(TextWriter.Null);
        }
        // The descriptors themselves too: whoever started us (a shell pipe, a test) sees end of
        // file once the starter has exited. Configured files are separate descriptors.
        if (!OperatingSystem.IsWindows())
        {
            Slimta.Host.Server.Posix.DetachStandardStreams();
        }
        // Children of the server (pipe relays) must not talk to our notifier.
        SdNotify.Forget();
        Environment.SetEnvironmentVariable(ChildVariable, null);
    }
}
