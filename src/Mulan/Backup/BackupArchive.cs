using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;

namespace Mulan.Backup;

/// <summary>
/// One <c>.tar.gz</c> of a data folder: the database as SQLite's online backup copied it (a consistent snapshot taken
/// while the server keeps serving), then every other file of the folder (the key ring that decrypts provider secrets,
/// uploaded documents), then <c>mulan-backup.json</c>, the manifest with each file's size and SHA-256, last, so that a
/// cut-off archive has no manifest and is refused.
/// </summary>
public static class BackupArchive
{
    public const string ManifestName = "mulan-backup.json";
    public const string DatabaseName = "mulan.db";
    public const string Format = "mulan-backup";
    public const int FormatVersion = 1;

    /// <summary>Files of the folder that are not copied as they are: the live database and its journal (the snapshot
    /// stands for them) and the lock.</summary>
    private static readonly HashSet<string> Skipped = new(StringComparer.Ordinal) { "mulan.db", "mulan.db-wal", "mulan.db-shm", "mulan.db-journal", DataFolderLock.FileName };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <returns>the manifest written, and how many files disappeared while they were being copied (deleted documents).</returns>
    public static async Task<(BackupManifest Manifest, int Vanished)> CreateAsync(string folder, string output, TimeProvider time, CancellationToken ct)
    {
        var database = Path.Combine(folder, DatabaseName);
        var snapshot = Path.Combine(Path.GetTempPath(), $"mulan-backup-{Guid.NewGuid():N}.db");
        var partial = output + ".partial";
        try
        {
            Snapshot(database, snapshot);
            var files = new List<BackupFile>();
            var vanished = 0;
            BackupManifest manifest;
            await using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None))
            await using (var gzip = new GZipStream(stream, CompressionLevel.Fastest))
            await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
            {
                files.Add(await AddAsync(tar, snapshot, DatabaseName, ct) ?? throw new IOException("the database snapshot disappeared"));
                foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var name = Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/');
                    if (Skipped.Contains(name))
                    {
                        continue;
                    }
                    if (await AddAsync(tar, path, name, ct) is { } file)
                    {
                        files.Add(file);
                    }
                    else
                    {
                        vanished++;
                    }
                }
                manifest = new BackupManifest(Format, FormatVersion, time.GetUtcNow(), Hosting.MulanVersion.Informational, SchemaVersion(snapshot), files);
                var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, Json);
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, ManifestName) { DataStream = new MemoryStream(bytes) }, ct);
            }
            // Only a complete archive gets the name asked for.
            File.Move(partial, output, overwrite: true);
            return (manifest, vanished);
        }
        finally
        {
            File.Delete(snapshot);
            File.Delete(partial);
        }
    }

    /// <summary>SQLite's online backup: pages copied under a read transaction, so the copy is one consistent state
    /// while writers go on (in WAL mode they are not blocked).</summary>
    private static void Snapshot(string database, string target)
    {
        using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        source.Open();
        copy.Open();
        source.BackupDatabase(copy);
    }

    private static long SchemaVersion(string database)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return (long)cmd.ExecuteScalar()!;
    }

    private static async Task<BackupFile?> AddAsync(TarWriter tar, string path, string name, CancellationToken ct)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        await using (file)
        {
            var hash = await SHA256.HashDataAsync(file, ct);
            file.Position = 0;
            var length = file.Length;
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = file }, ct);
            return new BackupFile(name, length, Convert.ToHexStringLower(hash));
        }
    }

    /// <summary>Extracts an archive into <paramref name="staging"/> (which must be empty) and checks it whole: every
    /// entry a plain file with a safe relative name, every file in the manifest with its size and hash and nothing
    /// else, and the database sound by SQLite's integrity check. Throws <see cref="BackupInvalidException"/> otherwise.</summary>
    public static async Task<BackupManifest> ExtractAsync(string archive, string staging, CancellationToken ct)
    {
        var seen = new Dictionary<string, BackupFile>(StringComparer.Ordinal);
        BackupManifest? manifest = null;
        try
        {
            await using var stream = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read);
            await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
            await using var tar = new TarReader(gzip);
            while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
            {
                if (entry.EntryType is TarEntryType.Directory)
                {
                    continue;
                }
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw new BackupInvalidException($"entry '{entry.Name}' is a {entry.EntryType}, not a file");
                }
                var name = entry.Name;
                if (name == ManifestName)
                {
                    manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(entry.DataStream ?? Stream.Null, Json, ct);
                    continue;
                }
                var target = SafeTarget(staging, name);
                if (seen.ContainsKey(name))
                {
                    throw new BackupInvalidException($"entry '{name}' appears twice");
                }
                OwnerOnly.CreateDirectory(Path.GetDirectoryName(target)!);
                await using (var file = OwnerOnly.CreateFile(target))
                using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                {
                    var buffer = new byte[81920];
                    long length = 0;
                    int n;
                    var data = entry.DataStream ?? Stream.Null;
                    while ((n = await data.ReadAsync(buffer, ct)) > 0)
                    {
                        sha.AppendData(buffer, 0, n);
                        await file.WriteAsync(buffer.AsMemory(0, n), ct);
                        length += n;
                    }
                    seen[name] = new BackupFile(name, length, Convert.ToHexStringLower(sha.GetHashAndReset()));
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or JsonException or FormatException)
        {
            throw new BackupInvalidException($"not a readable Mulan backup ({e.Message})");
        }
        if (manifest is null || manifest.Format != Format)
        {
            throw new BackupInvalidException($"no {ManifestName} at its end: not a Mulan backup, or cut off");
        }
        if (manifest.FormatVersion > FormatVersion)
        {
            throw new BackupInvalidException($"backup format {manifest.FormatVersion} is newer than this mulan reads ({FormatVersion}); restore it with mulan {manifest.MulanVersion}");
        }
        foreach (var expected in manifest.Files)
        {
            if (!seen.Remove(expected.Path, out var actual))
            {
                throw new BackupInvalidException($"'{expected.Path}' is listed but missing");
            }
            if (actual.Bytes != expected.Bytes || !string.Equals(actual.Sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new BackupInvalidException($"'{expected.Path}' does not match its checksum (damaged)");
            }
        }
        if (seen.Count > 0)
        {
            throw new BackupInvalidException($"'{seen.Keys.First()}' is not listed in the manifest");
        }
        if (!manifest.Files.Any(f => f.Path == DatabaseName))
        {
            throw new BackupInvalidException("it holds no database");
        }
        CheckDatabase(Path.Combine(staging, DatabaseName));
        return manifest;
    }

    private static void CheckDatabase(string path)
    {
        try
        {
            using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check";
            if (cmd.ExecuteScalar() as string is not "ok" and var problem)
            {
                throw new BackupInvalidException($"the database fails SQLite's integrity check: {problem}");
            }
        }
        catch (SqliteException e)
        {
            throw new BackupInvalidException($"the database cannot be read: {e.Message}");
        }
    }

    /// <summary>A relative name inside the folder: never rooted, never climbing out (zip slip).</summary>
    private static string SafeTarget(string staging, string name)
    {
        if (name.Length == 0 || name.Length > 1024 || Path.IsPathRooted(name) || name.Contains('\\') || name.Contains('\0')
            || name.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new BackupInvalidException($"entry '{name}' has an unsafe name");
        }
        var target = Path.GetFullPath(Path.Combine(staging, name));
        if (!target.StartsWith(Path.GetFullPath(staging) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new BackupInvalidException($"entry '{name}' has an unsafe name");
        }
        return target;
    }
}

public sealed record BackupManifest(string Format, int FormatVersion, DateTimeOffset CreatedAt, string MulanVersion, long SchemaVersion, IReadOnlyList<BackupFile> Files);

public sealed record BackupFile(string Path, long Bytes, string Sha256);

/// <summary>The archive is damaged, cut off, or not a Mulan backup; nothing was changed.</summary>
public sealed class BackupInvalidException(string message) : Exception(message);
