using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Slimta.Testing;

/// <summary>
/// A real Dovecot (Debian packages <c>dovecot-core</c>, <c>dovecot-lmtpd</c>) started with a
/// generated configuration: <c>protocols = lmtp</c>, an LMTP listener on 127.0.0.1 and an
/// ephemeral port, a passwd-file userdb holding only the given users, and Maildir mailboxes under
/// a temporary directory (<c>MailRoot/&lt;user&gt;/new/</c>). Its auth service also serves
/// <c>dovecot-lda -c <see cref="ConfigPath"/> -d user</c>. Disposing stops Dovecot and deletes
/// the directory.
/// </summary>
public sealed class DovecotLmtp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private DovecotLmtp(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    /// <summary>The LMTP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The generated dovecot.conf (pass it to dovecot-lda with <c>-c</c>).</summary>
    public string ConfigPath => Path.Combine(_dir, "dovecot.conf");

    /// <summary>Where each user's Maildir is (<c>MailRoot/user</c>).</summary>
    public string MailRoot => Path.Combine(_dir, "mail");

    /// <summary>Dovecot's log (for assertion messages).</summary>
    public string Log => File.Exists(Path.Combine(_dir, "dovecot.log")) ? File.ReadAllText(Path.Combine(_dir, "dovecot.log")) : string.Empty;

    /// <summary>The messages in <paramref name="user"/>'s INBOX (new/), oldest first.</summary>
    public IReadOnlyList<byte[]> Messages(string user)
    {
        var dir = Path.Combine(MailRoot, user, "new");
        return Directory.Exists(dir)
            ? Directory.GetFiles(dir).OrderBy(File.GetLastWriteTimeUtc).Select(File.ReadAllBytes).ToList()
            : [];
    }

    /// <summary>Starts Dovecot knowing exactly <paramref name="users"/> (any other recipient is unknown: 550 5.1.1).</summary>
    public static async Task<DovecotLmtp> StartAsync(params string[] users)
    {
        var exe = File.Exists("/usr/sbin/dovecot") ? "/usr/sbin/dovecot" : "dovecot";
        Exception? last = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var dir = TestPaths.NewTempDir("dovecot");
            bool root = Environment.UserName == "root";
            // As root, mail is stored as 'nobody' (Dovecot refuses uid 0 for mail); it must be able to write here.
            Directory.CreateDirectory(Path.Combine(dir, "mail"));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
                File.SetUnixFileMode(Path.Combine(dir, "mail"), (UnixFileMode)0x1FF);
            }
            var (uid, gid) = root ? ("65534", "65534") : (Id("-u"), Id("-g"));
            var passwd = new StringBuilder();
            foreach (var user in users)
            {
                passwd.Append(CultureInfo.InvariantCulture, $"{user}::{uid}:{gid}::{dir}/mail/{user}::\n");
            }
            File.WriteAllText(Path.Combine(dir, "users"), passwd.ToString());
            int port = FreePort.Next();
            var conf = new StringBuilder();
            conf.Append(CultureInfo.InvariantCulture, $"""
                base_dir = {dir}/run
                state_dir = {dir}/state
                log_path = {dir}/dovecot.log
                protocols = lmtp
                listen = 127.0.0.1
                ssl = no
                mail_location = maildir:~
                first_valid_uid = 0
                lmtp_save_to_detail_mailbox = no
                userdb {"{"}
                  driver = passwd-file
                  args = username_format=%n {dir}/users
                {"}"}
                passdb {"{"}
                  driver = static
                  args = nopassword=y
                {"}"}
                service lmtp {"{"}
                  inet_listener lmtp {"{"}
                    address = 127.0.0.1
                    port = {port}
                  {"}"}
                {"}"}

                """);
            if (!root)
            {
                // Without root Dovecot cannot switch to its own service users.
                var me = Environment.UserName;
                conf.Append(CultureInfo.InvariantCulture, $"default_internal_user = {me}\ndefault_login_user = {me}\ndefault_internal_group = {me}\n");
            }
            File.WriteAllText(Path.Combine(dir, "dovecot.conf"), conf.ToString());
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add("-F");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Path.Combine(dir, "dovecot.conf"));
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("dovecot did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("dovecot is not installed (Debian packages 'dovecot-core' and 'dovecot-lmtpd').", e);
            }
            var server = new DovecotLmtp(process, dir, port);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < deadline && !process.HasExited && !(IsListening(port) && File.Exists(Path.Combine(dir, "run", "auth-userdb"))))
            {
                await Task.Delay(25).ConfigureAwait(false);
            }
            if (!process.HasExited && IsListening(port))
            {
                return server;
            }
            var errors = process.HasExited ? await process.StandardError.ReadToEndAsync().ConfigureAwait(false) : string.Empty;
            last = new InvalidOperationException($"dovecot did not listen on 127.0.0.1:{port}: {errors}{server.Log}");
            await server.DisposeAsync().ConfigureAwait(false);
        }
        throw last!;
    }

    /// <summary>Stops Dovecot (and its child services) and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private static string Id(string flag)
    {
        using var id = Process.Start(new ProcessStartInfo("id", flag) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = id.StandardOutput.ReadToEnd().Trim();
        id.WaitForExit();
        return text;
    }

    private static bool IsListening(int port)
    {
        var needle = "0100007F:" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines("/proc/net/tcp"))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 3 && parts[1] == needle && parts[3] == "0A")
            {
                return true;
            }
        }
        return false;
    }
}
