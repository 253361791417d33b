using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mulan.Hosting;

namespace Mulan.Apps.Packages;

/// <summary>
/// The <c>.mulan-app.zip</c> package: an app's definition, optionally its knowledge bases' documents and evaluation
/// items, with a manifest that names the Mulan version that wrote it and the SHA-256 of every entry.
/// </summary>
public static partial class AppPackage
{
    public const int FormatVersion = 1;
    public const string MediaType = "application/zip";
    public const string FileExtension = ".mulan-app.zip";

    public static void Write(Stream output, PackageContents contents)
    {
        var entries = new List<(string Name, byte[] Bytes)>
        {
            (PackageEntryNames.Definition, JsonSerializer.SerializeToUtf8Bytes(contents.Definition, DefinitionJson)),
        };
        var folders = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var kb in contents.KnowledgeBases ?? [])
        {
            var folder = PackageEntryNames.Safe(kb.Name);
            // Two names can make the same safe folder ("HR policies", "HR-policies"): number the later ones.
            for (var n = 2; !folders.Add(folder); n++)
            {
                folder = $"{PackageEntryNames.Safe(kb.Name)}-{n}";
            }
            var index = new List<PackageDocumentEntry>();
            for (var i = 0; i < kb.Documents.Count; i++)
            {
                var d = kb.Documents[i];
                var file = PackageEntryNames.DocumentFile(i + 1, d.Source);
                index.Add(new PackageDocumentEntry(file, d.Title, d.Source, d.Origin, d.MediaType));
                entries.Add(($"{PackageEntryNames.KnowledgeFolder}{folder}/{file}", d.Content.ToArray()));
            }
            entries.Add(($"{PackageEntryNames.KnowledgeFolder}{folder}/{PackageEntryNames.DocumentIndex}",
                JsonSerializer.SerializeToUtf8Bytes(new PackageDocumentIndex(kb.Name, index), PackageJson.Options)));
        }
        if (contents.Evaluation is { } evaluation)
        {
            var lines = new StringBuilder();
            foreach (var item in evaluation)
            {
                lines.Append(JsonSerializer.Serialize(item, Compact)).Append('\n');
            }
            entries.Add((PackageEntryNames.Evaluation, Encoding.UTF8.GetBytes(lines.ToString())));
        }
        var d0 = contents.Definition;
        var manifest = new PackageManifest(FormatVersion, new PackageApp(d0.Slug, d0.Name, d0.Kind, contents.Version), contents.ExportedAt, MulanVersion.Current,
            new PackageIncludes(contents.KnowledgeBases is not null, contents.Evaluation is not null, [.. (contents.KnowledgeBases ?? []).Select(k => k.Name)],
                contents.KnowledgeBases?.Sum(k => k.Documents.Count) ?? 0, contents.Evaluation?.Count ?? 0),
            entries.ToDictionary(e => e.Name, e => Convert.ToHexStringLower(SHA256.HashData(e.Bytes)), StringComparer.Ordinal));
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true, Encoding.UTF8);
        foreach (var (name, bytes) in entries.Prepend((PackageEntryNames.Manifest, JsonSerializer.SerializeToUtf8Bytes(manifest, PackageJson.Options))))
        {
            var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
            entry.LastWriteTime = contents.ExportedAt;
            using var stream = entry.Open();
            stream.Write(bytes);
        }
    }

    // The definition as the reader checks it: camelCase, nulls left out, indented for whoever unzips it.
    private static readonly JsonSerializerOptions DefinitionJson = new(AppDefinition.Json)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions Compact = new(PackageJson.Options) { WriteIndented = false };
}
