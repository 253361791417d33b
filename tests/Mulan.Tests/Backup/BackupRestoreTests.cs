using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;
using Xunit;

namespace Mulan.Tests.Backup;

/// <summary><c>mulan backup</c> and <c>mulan restore</c> as real processes over the data folder of a real server.</summary>
public sealed class BackupRestoreTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-backup-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [SqliteFact] // backs up the SQLite file; PostgreSQL is backed up with its own tools (docs/operations.md)
    public async Task A_backup_taken_while_serving_restores_into_a_folder_that_serves_the_same_keys_usage_and_documents()
    {
        var source = Path.Combine(_dir, "source");
        Directory.CreateDirectory(source);
        var archive = Path.Combine(_dir, "backup.tar.gz");
        string secret, kb, requestId;
        await using (var host = await MulanHost.StartAsync(dataDirectory: source))
        {
            secret = await host.CreateKeyAsync(new { name = "kept" });
            using var client = host.Client(secret);
            using var chat = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });
            chat.EnsureSuccessStatusCode();
            requestId = chat.Headers.GetValues("x-mulan-request-id").Single();
            kb = await AppTestKit.KnowledgeBaseAsync(host, "handbook", "Annual leave is fifteen working days.\n\nThe office opens at nine.");

            // Online: the server keeps running while the backup is taken.
            var (code, stdout, stderr) = await MulanProcess.RunAsync(["backup", "--data", source, "-o", archive, "--json"]);
            Assert.True(code == 0, stderr + stdout);
            Assert.True(JsonNode.Parse(stdout)!["files"]!.GetValue<int>() >= 3, stdout);

            // A running server's folder is never restored over, --force or not.
            var running = await MulanProcess.RunAsync(["restore", archive, "--data", source, "--force"]);
            Assert.Equal(1, running.Code);
            Assert.Contains("stop it first", running.Stderr, StringComparison.Ordinal);
        }

        var names = Entries(archive);
        Assert.Contains("mulan.db", names);
        Assert.Contains(names, n => n.StartsWith("keys/", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("documents/", StringComparison.Ordinal));
        Assert.Equal("mulan-backup.json", names[^1]);
        Assert.DoesNotContain("mulan.db-wal", names);

        var target = Path.Combine(_dir, "target");
        var restored = await MulanProcess.RunAsync(["restore", archive, "--data", target]);
        Assert.True(restored.Code == 0, restored.Stderr + restored.Stdout);

        // A folder that is not empty needs --force, and then keeps its earlier contents aside.
        var again = await MulanProcess.RunAsync(["restore", archive, "--data", target]);
        Assert.Equal(1, again.Code);
        Assert.Contains("--force", again.Stderr, StringComparison.Ordinal);
        var forced = await MulanProcess.RunAsync(["restore", archive, "--data", target, "--force", "--json"]);
        Assert.True(forced.Code == 0, forced.Stderr + forced.Stdout);
        var aside = JsonNode.Parse(forced.Stdout)!["movedAside"]!.GetValue<string>();
        Assert.True(File.Exists(Path.Combine(aside, "mulan.db")));

        await using (var host = await MulanHost.StartAsync(dataDirectory: target))
        {
            using var client = host.Client(secret);
            using var chat = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "again" } } });
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            var records = await host.UsageRecordsAsync();
            Assert.Contains(records, r => r["requestId"]!.GetValue<string>() == requestId);
            Assert.Equal(2, records.Count(r => r["endpoint"]!.GetValue<string>() == "chat.completions"));
            using var search = await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "annual leave days" });
            search.EnsureSuccessStatusCode();
            var results = (await search.Content.ReadFromJsonAsync<JsonObject>())!["results"]!.AsArray();
            Assert.Contains("fifteen working days", results[0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [SqliteFact]
    public async Task A_damaged_or_cut_off_archive_is_refused_and_changes_nothing()
    {
        var source = Path.Combine(_dir, "source");
        Directory.CreateDirectory(source);
        var archive = Path.Combine(_dir, "backup.tar.gz");
        await using (var host = await MulanHost.StartAsync(dataDirectory: source))
        {
            await host.CreateKeyAsync();
            var made = await MulanProcess.RunAsync(["backup", "--data", source, "-o", archive]);
            Assert.True(made.Code == 0, made.Stderr);
        }

        // The database's bytes changed, the manifest kept: the checksum catches it.
        var tampered = Path.Combine(_dir, "tampered.tar.gz");
        Rewrite(archive, tampered, (name, bytes) => name == "mulan.db" ? Flip(bytes) : bytes, keep: _ => true);
        // Cut off: everything but the manifest.
        var cut = Path.Combine(_dir, "cut.tar.gz");
        Rewrite(archive, cut, (_, bytes) => bytes, keep: name => name != "mulan-backup.json");
        // Zip slip: an entry that climbs out of the folder.
        var slip = Path.Combine(_dir, "slip.tar.gz");
        Rewrite(archive, slip, (_, bytes) => bytes, keep: _ => true, extra: ("../escaped.txt", [1, 2, 3]));

        foreach (var (bad, expected) in new[] { (tampered, "checksum"), (cut, "mulan-backup.json"), (slip, "unsafe name") })
        {
            var target = Path.Combine(_dir, "target-" + Path.GetFileNameWithoutExtension(bad));
            var (code, _, stderr) = await MulanProcess.RunAsync(["restore", bad, "--data", target]);
            Assert.Equal(1, code);
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.Contains("nothing was changed", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(target), e => Path.GetFileName(e) != "mulan.lock");
        }
        Assert.False(File.Exists(Path.Combine(_dir, "escaped.txt")));
        Assert.False(Directory.EnumerateDirectories(_dir, ".target-*").Any());
    }

    private static byte[] Flip(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        copy[copy.Length / 2] ^= 0xff;
        return copy;
    }

    private static List<string> Entries(string archive)
    {
        using var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var names = new List<string>();
        while (tar.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }
        return names;
    }

    private static void Rewrite(string from, string to, Func<string, byte[], byte[]> change, Func<string, bool> keep, (string Name, byte[] Bytes)? extra = null)
    {
        using var input = new GZipStream(File.OpenRead(from), CompressionMode.Decompress);
        using var reader = new TarReader(input);
        using var output = new GZipStream(File.Create(to), CompressionLevel.Fastest);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        if (extra is { } e)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, e.Name) { DataStream = new MemoryStream(e.Bytes) });
        }
        while (reader.GetNextEntry() is { } entry)
        {
            if (!keep(entry.Name))
            {
                continue;
            }
            using var buffer = new MemoryStream();
            entry.DataStream?.CopyTo(buffer);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = new MemoryStream(change(entry.Name, buffer.ToArray())) });
        }
    }
}
