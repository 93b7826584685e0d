// The disk queue's durability rests on Linux calls (fsync of directories, rename(2), flock):
// its tests run on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
