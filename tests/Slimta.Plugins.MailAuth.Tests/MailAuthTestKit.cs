using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Testing;

namespace Slimta.Plugins.MailAuth.Tests;

/// <summary>Options, contexts, messages and helpers shared by the mail-authentication tests.</summary>
internal static class MailAuthTestKit
{
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 21, 4, 5, TimeSpan.Zero);

    public static ComponentContext Context(string? configDirectory = null) =>
        new(new FakeTimeProvider(Now), NullLoggerFactory.Instance, "mx", "mx.slimta.test", configDirectory ?? Path.GetTempPath());

    /// <summary>Options at <paramref name="path"/> from nested dictionaries, arrays and strings.</summary>
    public static ComponentOptions Options(string path, string type, IReadOnlyDictionary<string, object> entries)
    {
        var all = new Dictionary<string, object>(entries) { ["type"] = type };
        return new ComponentOptions((ConfigMap)Node(path, all), new HashSet<string>(StringComparer.Ordinal) { "type" });
    }

    private static ConfigNode Node(string path, object value) => value switch
    {
        string s => new ConfigScalar(path, s),
        IReadOnlyDictionary<string, object> map => new ConfigMap(path, map.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, Node(ConfigNode.Combine(path, e.Key), e.Value)))),
        object[] list => new ConfigList(path, list.Select((item, i) => Node(ConfigNode.Combine(path, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), item)).ToList()),
        _ => throw new ArgumentException("unsupported option value " + value),
    };

    public static IRelayPolicy CreateSigner(IReadOnlyDictionary<string, object> entries, string? configDirectory = null)
    {
        var factory = RecordingRegistry.Of(new MailAuthPlugin()).RelayPolicies["dkim_sign"];
        var options = Options("relay.out.policies.0", "dkim_sign", entries);
        factory.Validate(options);
        return factory.Create(options, Context(configDirectory));
    }

    public static IQueuePolicy CreateVerifier(LocalDnsServer dns, Dictionary<string, object>? entries = null)
    {
        var factory = RecordingRegistry.Of(new MailAuthPlugin()).QueuePolicies["verify_auth"];
        var all = new Dictionary<string, object>(entries ?? new Dictionary<string, object>())
        {
            ["dns"] = new Dictionary<string, object> { ["servers"] = new object[] { dns.Server }, ["timeout"] = "10" },
        };
        var options = Options("queue.in.policies.0", "verify_auth", all);
        factory.Validate(options);
        return factory.Create(options, Context());
    }

    /// <summary>
    /// A message with what breaks careless signers: a line starting with a dot (dot-stuffed on the
    /// wire), trailing white space, runs of spaces, folded and 8-bit headers, trailing blank lines.
    /// </summary>
    public static string Message(string from = "Alice <alice@example.test>") =>
        $"From: {from}\r\n" +
        "To: bob@dest.test\r\n" +
        "Subject: Hello   there, \r\n\tfolded \r\n" +
        "Date: Sat, 28 Nov 2026 21:04:05 +0000\r\n" +
        "Message-ID: <1@example.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "X-Unsigned: Grüße\r\n" +
        "\r\n" +
        "Hello Bob,\r\n" +
        ".a line that starts with a dot\r\n" +
        "trailing   spaces   \r\n" +
        "Grüße aus Köln\r\n" +
        "\r\n\r\n";

    public static Envelope Envelope(string message, string sender = "alice@example.test", string? helo = "client.example.test", IPAddress? address = null, string protocol = "ESMTP") =>
        new(sender, ["bob@dest.test"], RawMessage.FromString(message))
        {
            Client = new ClientInfo(address ?? IPAddress.Loopback, 40000, null, helo, protocol, null),
        };

    public static string Text(Envelope envelope) => Encoding.UTF8.GetString(envelope.Message.Bytes.Span);

    /// <summary>Runs <paramref name="exe"/> with <paramref name="args"/> and <paramref name="stdin"/>; returns exit code and stderr+stdout.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string exe, IEnumerable<string> args, byte[]? stdin = null)
    {
        var start = new ProcessStartInfo(exe) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + exe);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stderr + await stdout);
    }

    /// <summary>dkimpy's verdict on signature <paramref name="index"/> (0 = topmost), keys from <paramref name="dns"/>.</summary>
    public static async Task<(bool Ok, string Output)> DkimpyAsync(LocalDnsServer dns, Envelope envelope, int index = 0)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "dkim_verify.py");
        var (code, output) = await RunAsync("/usr/bin/python3", [script, dns.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), index.ToString(System.Globalization.CultureInfo.InvariantCulture)], envelope.Message.Bytes.ToArray());
        Assert.True(code is 0 or 1, "dkimpy failed to run: " + output);
        return (code == 0, output);
    }
}
