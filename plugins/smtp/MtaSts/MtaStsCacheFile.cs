using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>
/// The MTA-STS policies a relay has seen, kept in a JSON file (<c>mta_sts.cache_file</c>) so that
/// a restart does not forget them: RFC 8461 §5.1 protects a domain against a downgrade only while
/// its policy is cached, and an attacker who can block the policy fetch could otherwise strip TLS
/// after every restart. Written whole to a temporary file and renamed over the old one, so a
/// crash leaves the old or the new file, never half of one. A file that cannot be read is logged
/// and ignored (the policies are fetched again).
/// </summary>
internal sealed class MtaStsCacheFile(string path, ILogger logger)
{
    private readonly SemaphoreSlim _writing = new(1, 1);

    /// <summary>The file's entries that have not expired at <paramref name="now"/>.</summary>
    public IReadOnlyList<MtaStsCacheEntry> Load(DateTimeOffset now)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var entries = new List<MtaStsCacheEntry>();
            foreach (var item in document.RootElement.GetProperty("policies").EnumerateArray())
            {
                var mode = Enum.Parse<MtaStsMode>(item.GetProperty("mode").GetString()!, ignoreCase: true);
                var mx = item.GetProperty("mx").EnumerateArray().Select(m => m.GetString()!).ToList();
                var maxAge = TimeSpan.FromSeconds(item.GetProperty("max_age").GetInt64());
                var expires = item.GetProperty("expires").GetDateTimeOffset();
                if (expires > now)
                {
                    entries.Add(new MtaStsCacheEntry(item.GetProperty("domain").GetString()!, item.GetProperty("id").GetString()!, new MtaStsPolicy(mode, mx, maxAge), expires));
                }
            }
            return entries;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or KeyNotFoundException or ArgumentException or FormatException)
        {
            logger.LogWarning("MTA-STS cache {Path} could not be read ({Error}); policies will be fetched again", path, e.Message);
            return [];
        }
    }

    /// <summary>Replaces the file with <paramref name="entries"/> (those not expired at <paramref name="now"/>).</summary>
    public async Task SaveAsync(IEnumerable<MtaStsCacheEntry> entries, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var temporary = path + ".tmp";
            await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            {
                await using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
                writer.WriteStartObject();
                writer.WriteStartArray("policies");
                foreach (var entry in entries.Where(e => e.Expires > now))
                {
                    writer.WriteStartObject();
                    writer.WriteString("domain", entry.Domain);
                    writer.WriteString("id", entry.Id);
                    writer.WriteString("mode", entry.Policy.Mode.ToString().ToLowerInvariant());
                    writer.WriteStartArray("mx");
                    foreach (var mx in entry.Policy.Mx)
                    {
                        writer.WriteStringValue(mx);
                    }
                    writer.WriteEndArray();
                    writer.WriteNumber("max_age", (long)entry.Policy.MaxAge.TotalSeconds);
                    writer.WriteString("expires", entry.Expires);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            _writing.Release();
        }
    }
}
