using System.Diagnostics;
using System.Text;
using MailKit.Net.Smtp;
using MimeKit;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>Real clients (MailKit, Python smtplib, swaks) doing STARTTLS and AUTH against the whole server.</summary>
public sealed class TlsInteropTests
{
    private static string Config(int sinkPort) => $$$"""
        process: {slimta: {}}
        edge:
          inbound:
            type: smtp
            queue: outbound
            listener: {interface: 127.0.0.1, port: 0}
            tls: {{{TestCertificates.TlsYaml}}}
            rules:
              lookup_credentials:
                type: config
                map: {alice: '{{{TlsConformanceTests.AliceHash}}}'}
        queue:
          outbound:
            type: memory
            relay: sink
            policies:
              - type: add_received_header
        relay:
          sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}, ehlo_as: slimta.test}
        """;

    [Fact]
    public async Task Send_MailKitStartTlsAndAuth_ArrivesWithEsmtpsa()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port));
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice", "alice@client.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@remote.test"));
        message.Subject = "mailkit tls";
        message.Body = new TextPart("plain") { Text = "Hello over TLS.\r\n" };
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync("127.0.0.1", server.PortOf(), MailKit.Security.SecureSocketOptions.StartTls);
            Assert.True(client.IsSecure);
            Assert.Contains("PLAIN", client.AuthenticationMechanisms);
            await client.AuthenticateAsync("alice", "s3cret pass");
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Contains("with ESMTPSA", Encoding.Latin1.GetString(received.Data));
    }

    [Fact]
    public async Task Send_MailKitWrongPassword_IsRefused()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port));
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync("127.0.0.1", server.PortOf(), MailKit.Security.SecureSocketOptions.StartTls);
        var ex = await Assert.ThrowsAsync<MailKit.Security.AuthenticationException>(() => client.AuthenticateAsync("alice", "wrong"));
        Assert.Contains("invalid", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Send_PythonSmtplibStartTlsAndLogin_Succeeds()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port));
        const string script = """
            import smtplib, ssl, sys
            ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
            s.starttls(context=ctx)
            s.login("alice", "s3cret pass")
            s.sendmail("alice@client.test", ["bob@remote.test"], "Subject: smtplib\r\n\r\nfrom python\r\n")
            s.quit()
            print("SENT")
            """;
        var output = await RunAsync("python3", "-c", script, server.PortOf().ToString());
        Assert.Contains("SENT", output);
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Contains("from python", Encoding.Latin1.GetString(received.Data));
    }

    [Fact]
    public async Task Send_SwaksTlsAndAuthLogin_Succeeds()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port));
        var output = await RunAsync("swaks", "--server", "127.0.0.1:" + server.PortOf(), "--tls", "--auth", "LOGIN",
            "--auth-user", "alice", "--auth-password", "s3cret pass", "--from", "alice@client.test", "--to", "bob@remote.test");
        Assert.Contains("235 2.7.0", output);
        Assert.Contains("250 2.6.0", output);
        Assert.Single(await sink.WaitForMessagesAsync(1));
    }

    private static async Task<string> RunAsync(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(timeout.Token);
        return await stdout + await stderr;
    }
}
