namespace Mulan.Backup;

/// <summary>
/// <c>mulan.lock</c> in the data folder, held for the server's life with a shared lock (several servers may share a
/// folder) and taken exclusively by <c>mulan restore</c>, so that a restore never replaces the data under a running
/// server and a server never starts on a half-restored folder. On Linux and macOS .NET takes these as <c>flock</c>
/// locks, which the system releases when the process ends, however it ends.
/// </summary>
public sealed class DataFolderLock : IDisposable
{
    public const string FileName = "mulan.lock";
    private readonly FileStream _file;

    private DataFolderLock(FileStream file) => _file = file;

    /// <summary>The server's shared lock; null when a restore holds the folder.</summary>
    public static DataFolderLock? TryShared(string folder) => TryOpen(folder, FileShare.ReadWrite);

    /// <summary>The restore's exclusive lock; null while a server runs on the folder (or another restore does).</summary>
    public static DataFolderLock? TryExclusive(string folder) => TryOpen(folder, FileShare.None);

    private static DataFolderLock? TryOpen(string folder, FileShare share)
    {
        try
        {
            return new DataFolderLock(new FileStream(Path.Combine(folder, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, share));
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>The server's hold on its data folder, released when the host's services are disposed.</summary>
public sealed class DataFolderHold : IDisposable
{
    private DataFolderLock? _lock;

    /// <exception cref="Hosting.StartupException">a restore holds the folder.</exception>
    public void Take(string folder)
    {
        _lock ??= DataFolderLock.TryShared(folder)
            ?? throw new Hosting.StartupException($"--data: '{folder}' is being restored (mulan restore holds it); start the server when it has finished");
    }

    public void Dispose() => _lock?.Dispose();
}

/// <summary>Folders and files of a restored data folder are the owner's only, as the server creates them.</summary>
internal static class OwnerOnly
{
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public static FileStream CreateFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return new FileStream(path, options);
    }
}
