namespace Mulan.Backup;

/// <summary>
/// Puts a backup in place of a data folder: checked whole in a staging folder beside it first (so a damaged archive
/// changes nothing), under the folder's exclusive lock (so never under a running server), and with <c>force</c> the
/// folder's earlier contents are moved aside, not deleted.
/// </summary>
public static class DataFolderRestore
{
    public sealed record Result(BackupManifest Manifest, string? MovedAside);

    /// <exception cref="Cli.CliUserException">a server runs on the folder, or it is not empty and <paramref name="force"/> is not set.</exception>
    /// <exception cref="BackupInvalidException">the archive is damaged or not a backup; nothing was changed.</exception>
    public static async Task<Result> RunAsync(string archive, string folder, bool force, TimeProvider time, CancellationToken ct)
    {
        if (!File.Exists(archive))
        {
            throw new Cli.CliUserException($"FILE: no file '{archive}'");
        }
        OwnerOnly.CreateDirectory(folder);
        using var exclusive = DataFolderLock.TryExclusive(folder)
            ?? throw new Cli.CliUserException($"--data: a Mulan server (or another restore) is using '{folder}'; stop it first");
        var existing = Directory.EnumerateFileSystemEntries(folder).Where(e => Path.GetFileName(e) != DataFolderLock.FileName).ToList();
        if (existing.Count > 0 && !force)
        {
            throw new Cli.CliUserException($"--data: '{folder}' is not empty; pass --force to restore over it (its contents are moved to a folder beside it)");
        }
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(folder))!;
        var staging = Path.Combine(parent, $".{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}.restoring-{Guid.NewGuid():N}");
        OwnerOnly.CreateDirectory(staging);
        try
        {
            var manifest = await BackupArchive.ExtractAsync(archive, staging, ct);
            string? aside = null;
            if (existing.Count > 0)
            {
                aside = Path.TrimEndingDirectorySeparator(folder) + $".before-restore-{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}";
                OwnerOnly.CreateDirectory(aside);
                foreach (var entry in existing)
                {
                    Move(entry, Path.Combine(aside, Path.GetFileName(entry)));
                }
            }
            foreach (var entry in Directory.EnumerateFileSystemEntries(staging))
            {
                Move(entry, Path.Combine(folder, Path.GetFileName(entry)));
            }
            return new Result(manifest, aside);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static void Move(string from, string to)
    {
        if (Directory.Exists(from))
        {
            Directory.Move(from, to);
        }
        else
        {
            File.Move(from, to);
        }
    }
}
