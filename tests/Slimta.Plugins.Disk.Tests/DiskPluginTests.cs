using System.Diagnostics;
using System.Reflection;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Testing;

namespace Slimta.Plugins.Disk.Tests;

/// <summary>Registration and the configuration checks done at startup.</summary>
public sealed class DiskPluginTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("disk-config");

    public void Dispose()
    {
        Unfreeze(_root);
        Directory.Delete(_root, true);
    }

    [Fact]
    public void Register_Always_AddsOnlyDiskStorage()
    {
        var registry = new RecordingRegistry();
        new DiskPlugin().Register(registry);
        Assert.Equal(["disk"], registry.Storages.Keys);
        Assert.Equal(["storage:disk"], registry.Registered);
        Assert.Equal(typeof(DiskPlugin), typeof(DiskPlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>()!.EntryType);
    }

    [Fact]
    public void Validate_MissingMetaDir_ThrowsNamingKey()
    {
        var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Inner.Validate(DiskTestKit.Options(("type", "disk"), ("envelope_dir", "env"))));
        Assert.Equal("queue.inbound", error.KeyPath);
        Assert.Contains("'meta_dir' is required", error.Message);
    }

    [Fact]
    public void Validate_UnknownKey_ThrowsWithKeyPath()
    {
        var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Inner.Validate(
            DiskTestKit.Options(("type", "disk"), ("envelope_dir", "e"), ("meta_dir", "m"), ("tmpdir", "t"))));
        Assert.Equal("queue.inbound.tmpdir", error.KeyPath);
    }

    [Fact]
    public void Validate_CreateDirsNotBoolean_ThrowsNamingKey()
    {
        var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Inner.Validate(
            DiskTestKit.Options(("type", "disk"), ("envelope_dir", "e"), ("meta_dir", "m"), ("create_dirs", "maybe"))));
        Assert.Equal("queue.inbound.create_dirs", error.KeyPath);
    }

    [Fact]
    public void Create_MissingEnvelopeDir_ThrowsNamingKeyAndCreatesNothing()
    {
        var options = DiskTestKit.Options(("type", "disk"), ("envelope_dir", "nope/env"), ("meta_dir", "nope/meta"));
        var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Create(options, _root));
        Assert.Equal("queue.inbound.envelope_dir", error.KeyPath);
        Assert.Contains("does not exist", error.Message);
        Assert.Contains(Path.Combine(_root, "nope", "env"), error.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "nope")));
    }

    [Fact]
    public async Task Create_CreateDirsTrue_MakesEveryDirectoryPrivate()
    {
        var options = DiskTestKit.Options(("type", "disk"), ("envelope_dir", "spool/env"), ("meta_dir", "spool/meta"), ("create_dirs", "true"));
        var storage = (DiskStorage)DiskTestKit.Factory().Create(options, _root);
        await storage.DisposeAsync();
        foreach (var dir in new[] { "spool/env", "spool/meta", "spool/env/tmp", "spool/env/quarantine" })
        {
            var path = Path.Combine(_root, dir);
            Assert.True(Directory.Exists(path), dir);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void Create_EnvelopeDirIsAFile_ThrowsNamingKey()
    {
        File.WriteAllText(Path.Combine(_root, "file"), "x");
        var options = DiskTestKit.Options(("type", "disk"), ("envelope_dir", "file"), ("meta_dir", "file2"));
        var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Create(options, _root));
        Assert.Equal("queue.inbound.envelope_dir", error.KeyPath);
        Assert.Contains("is a file", error.Message);
    }

    [Fact]
    public void Create_TmpDirOnAnotherFileSystem_ThrowsNamingTmpDir()
    {
        // /dev/shm is a tmpfs of its own; the test's temp directory is not on it.
        var otherFs = Path.Combine("/dev/shm", "slimta-disk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(otherFs);
        try
        {
            var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Create(DiskTestKit.SpoolOptions(_root, ("tmp_dir", otherFs)), _root));
            Assert.Equal("queue.inbound.tmp_dir", error.KeyPath);
            Assert.Contains("another file system", error.Message);
            Assert.Empty(Directory.GetFiles(otherFs));
        }
        finally
        {
            Directory.Delete(otherFs, true);
        }
    }

    [Fact]
    public void Create_QuarantineDirSameAsEnvelopeDir_ThrowsNamingKey()
    {
        var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Create(DiskTestKit.SpoolOptions(_root, ("quarantine_dir", "env")), _root));
        Assert.Equal("queue.inbound.quarantine_dir", error.KeyPath);
    }

    [Fact]
    public async Task Create_SpoolAlreadyInUse_ThrowsNamingEnvelopeDir()
    {
        var first = DiskTestKit.Create(_root);
        try
        {
            var error = Assert.Throws<ConfigException>(() => DiskTestKit.Create(_root));
            Assert.Equal("queue.inbound.envelope_dir", error.KeyPath);
            Assert.Contains("in use by another process", error.Message);
        }
        finally
        {
            await first.DisposeAsync();
        }
        // Closing releases the lock: the spool can be opened again.
        await DiskTestKit.Create(_root).DisposeAsync();
    }

    [Fact]
    public void Create_MetaDirNotWritable_ThrowsNamingKey()
    {
        var options = DiskTestKit.SpoolOptions(_root);
        Freeze(Path.Combine(_root, "meta"));
        var error = Assert.Throws<ConfigException>(() => DiskTestKit.Factory().Create(options, _root));
        Assert.Equal("queue.inbound.meta_dir", error.KeyPath);
        Assert.Contains("not writable", error.Message);
    }

    /// <summary>Makes a directory unwritable even for root (the immutable attribute), or by mode for other users.</summary>
    private static void Freeze(string dir)
    {
        if (Environment.UserName == "root")
        {
            Run("chattr", "+i", dir);
        }
        else
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
    }

    private static void Unfreeze(string root)
    {
        var meta = Path.Combine(root, "meta");
        if (Directory.Exists(meta))
        {
            if (Environment.UserName == "root")
            {
                Run("chattr", "-i", meta);
            }
            File.SetUnixFileMode(meta, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void Run(string exe, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{exe} {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
    }
}
