namespace Slimta.Plugins.Disk;

/// <summary>The resolved, absolute directories of one disk queue.</summary>
/// <param name="Name">The queue's key path (<c>queue.inbound</c>) for logs and errors.</param>
/// <param name="EnvelopeDir">Where <c>&lt;id&gt;.env</c> files live.</param>
/// <param name="MetaDir">Where <c>&lt;id&gt;.meta</c> files live.</param>
/// <param name="TmpDir">Scratch space on the same file system, for write-then-rename.</param>
/// <param name="QuarantineDir">Where unreadable files are moved at startup.</param>
internal sealed record DiskStorageSettings(string Name, string EnvelopeDir, string MetaDir, string TmpDir, string QuarantineDir)
{
    public string EnvelopePath(string id) => Path.Combine(EnvelopeDir, id + ".env");

    public string MetaPath(string id) => Path.Combine(MetaDir, id + ".meta");

    public string TmpEnvelopePath(string id) => Path.Combine(TmpDir, id + ".env.tmp");

    public string TmpMetaPath(string id) => Path.Combine(TmpDir, id + ".meta.tmp");
}
