using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>
/// The MTA-STS policies a relay has seen, kept in a JSON file (<c>mta_sts.cache_file</c>) so that
/// a restart does not forget them: RFC 8461 §5.1 protects a domain against a downgrade only while
/// its policy is cached, and an attacker who can block the policy fetch could otherwise strip TLS
/// after every restart. Written whole to a temporary file of its own and renamed over the old one,
/// so a reader finds the old or the new file, never half of one; each write merges what the file
/// already holds for domains this process has not seen (another relay or process sharing the file,
/// or the relay before a reload). Entries that cannot be trusted as written (a damaged or edited
/// file) are skipped and logged; the policies are then fetched again.
/// </summary>
internal sealed class MtaStsCacheFile(string path, ILogger logger)
{
    /// <summary>The file's valid entries that have not expired at <paramref name="now"/>.</summary>
    public IReadOnlyList<MtaStsCacheEntry> Load(DateTimeOffset now)
    {
        var entries = new List<MtaStsCacheEntry>();
        if (!File.Exists(path))
        {
            return entries;
        }
        int skipped = 0;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var item in document.RootElement.GetProperty("policies").EnumerateArray())
            {
                if (TryRead(item, now) is { } entry)
                {
                    entries.Add(entry);
                }
                else
                {
                    skipped++;
                }
            }
        }
        catch (Exception e)
        {
            // Whatever is wrong with the file, the relay starts and fetches policies again.
            logger.LogWarning("MTA-STS cache {Path} could not be read ({Error}); its policies will be fetched again", path, e.Message);
            return [];
        }
        if (skipped > 0)
        {
            logger.LogWarning("MTA-STS cache {Path}: {Count} invalid entries skipped", path, skipped);
        }
        return entries;
    }

    /// <summary>
    /// Replaces the file with <paramref name="entries"/> plus the file's own unexpired entries for
    /// other domains. One writer per process at a time (the caller's chain).
    /// </summary>
    public async Task SaveAsync(IReadOnlyCollection<MtaStsCacheEntry> entries, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var mine = new HashSet<string>(entries.Select(e => e.Domain), StringComparer.OrdinalIgnoreCase);
        var all = entries.Where(e => e.Expires > now).Concat(Load(now).Where(e => !mine.Contains(e.Domain))).ToList();
        // A name of its own, created new: two writers never share a temporary file, and a planted
        // file or link with that name is refused rather than followed.
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            {
                await using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
                writer.WriteStartObject();
                writer.WriteStartArray("policies");
                foreach (var entry in all)
                {
                    Write(writer, entry);
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static void Write(Utf8JsonWriter writer, MtaStsCacheEntry entry)
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

    /// <summary>One entry, checked as strictly as a fetched policy (RFC 8461 §3.2); null when it does not pass.</summary>
    private static MtaStsCacheEntry? TryRead(JsonElement item, DateTimeOffset now)
    {
        if (item.ValueKind != JsonValueKind.Object
            || String(item, "domain") is not { Length: > 0 } domain
            || String(item, "id") is not { Length: > 0 } id
            || String(item, "mode") is not { } modeText
            || !item.TryGetProperty("mx", out var mxArray) || mxArray.ValueKind != JsonValueKind.Array
            || !item.TryGetProperty("max_age", out var maxAgeValue) || !maxAgeValue.TryGetInt64(out long maxAge)
            || maxAge < 0 || maxAge > MtaStsPolicy.MaxAgeLimit
            || !item.TryGetProperty("expires", out var expiresValue) || expiresValue.ValueKind != JsonValueKind.String
            || !expiresValue.TryGetDateTimeOffset(out var expires))
        {
            return null;
        }
        MtaStsMode? mode = modeText switch
        {
            "enforce" => MtaStsMode.Enforce,
            "testing" => MtaStsMode.Testing,
            "none" => MtaStsMode.None,
            _ => null,
        };
        var mx = new List<string>();
        foreach (var value in mxArray.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } pattern)
            {
                return null;
            }
            mx.Add(pattern);
        }
        if (mode is null || (mode != MtaStsMode.None && mx.Count == 0))
        {
            return null;
        }
        // Never longer than a fetched policy could be cached from now (§3.2's one-year cap).
        var latest = now + TimeSpan.FromSeconds(MtaStsPolicy.MaxAgeLimit);
        if (expires <= now)
        {
            return null;
        }
        return new MtaStsCacheEntry(domain, id, new MtaStsPolicy(mode.Value, mx, TimeSpan.FromSeconds(maxAge)), expires > latest ? latest : expires);
    }

    private static string? String(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
