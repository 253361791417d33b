using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Apps.Packages;

/// <summary>Reading a package, second half: the decompressed entries checked against the manifest, then their JSON.</summary>
public static partial class AppPackage
{
    private static PackageReadResult Interpret(List<EntryData> data, PackageLimits limits)
    {
        var problems = new List<string>();
        var manifest = Parse<PackageManifest>(data.SingleOrDefault(d => d.Kind == EntryKind.Manifest), PackageEntryNames.Manifest, problems);
        if (manifest is null)
        {
            return Refused(problems);
        }
        if (manifest.FormatVersion != FormatVersion)
        {
            return Refused($"manifest.json: format version {manifest.FormatVersion}; this Mulan reads version {FormatVersion}");
        }
        // Every entry is listed with its hash, and every listed entry is there: nothing added, dropped or altered.
        var listed = manifest.Entries ?? new Dictionary<string, string>();
        foreach (var d in data.Where(d => d.Kind != EntryKind.Manifest))
        {
            if (!listed.TryGetValue(d.Name, out var expected))
            {
                problems.Add($"'{d.Name}' is not listed in manifest.json");
            }
            else if (!string.Equals(expected, Convert.ToHexStringLower(SHA256.HashData(d.Bytes)), StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"'{d.Name}' does not match its SHA-256 in manifest.json");
            }
        }
        foreach (var name in listed.Keys.Where(n => !data.Any(d => d.Name == n)))
        {
            problems.Add($"'{Show(name)}' is listed in manifest.json but missing");
        }
        if (problems.Count > 0)
        {
            return Refused(problems);
        }
        var definition = ReadDefinition(data.SingleOrDefault(d => d.Kind == EntryKind.Definition), problems);
        if (definition is not null && (definition.Slug != manifest.App?.Slug || definition.Kind != manifest.App.Kind))
        {
            problems.Add("manifest.json: the app's slug and kind differ from app.json's");
        }
        var knowledgeBases = ReadKnowledgeBases(data, definition, problems);
        var evaluation = data.SingleOrDefault(d => d.Kind == EntryKind.Evaluation) is { } e ? ReadEvaluation(e, limits, problems) : null;
        if (problems.Count > 0 || definition is null)
        {
            return Refused(problems);
        }
        var contents = new PackageContents(definition, manifest.App!.Version, manifest.ExportedAt,
            knowledgeBases.Count > 0 || manifest.Includes?.Documents == true ? knowledgeBases : null, evaluation);
        return new PackageReadResult(contents, manifest, []);
    }

    private static AppDefinition? ReadDefinition(EntryData? entry, List<string> problems)
    {
        if (entry is null)
        {
            problems.Add("app.json is missing");
            return null;
        }
        if (Text(entry, problems) is not { } text)
        {
            return null;
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = AppDefinition.Json.MaxDepth });
        }
        catch (JsonException ex)
        {
            problems.Add($"app.json is not valid JSON: {ex.Message}");
            return null;
        }
        if (node is not JsonObject definition)
        {
            problems.Add("app.json: $: must be a JSON object");
            return null;
        }
        var errors = new Dictionary<string, string[]>();
        var read = AppDefinitionReader.Read(definition, errors);
        problems.AddRange(errors.SelectMany(kv => kv.Value.Select(m => $"app.json: {kv.Key}: {m}")));
        return read;
    }

    private static List<PackageKnowledgeBase> ReadKnowledgeBases(List<EntryData> data, AppDefinition? definition, List<string> problems)
    {
        var result = new List<PackageKnowledgeBase>();
        foreach (var folder in data.Where(d => d.Folder is not null).GroupBy(d => d.Folder!, StringComparer.Ordinal))
        {
            var path = $"{PackageEntryNames.KnowledgeFolder}{folder.Key}/{PackageEntryNames.DocumentIndex}";
            var index = Parse<PackageDocumentIndex>(folder.SingleOrDefault(d => d.Kind == EntryKind.DocumentIndex), path, problems);
            if (index is null)
            {
                continue;
            }
            var files = folder.Where(d => d.Kind == EntryKind.Document).ToDictionary(d => d.Name[(d.Name.LastIndexOf('/') + 1)..], StringComparer.Ordinal);
            var before = problems.Count;
            CheckText(problems, path, "knowledgeBase", index.KnowledgeBase, 100);
            if (definition?.KnowledgeBases is { } used && index.KnowledgeBase is not null && !used.Contains(index.KnowledgeBase, StringComparer.Ordinal))
            {
                problems.Add($"{path}: the app does not use a knowledge base named '{Show(index.KnowledgeBase)}'");
            }
            if (result.Any(k => k.Name == index.KnowledgeBase))
            {
                problems.Add($"{path}: '{Show(index.KnowledgeBase ?? "")}' has documents in two folders");
            }
            var documents = new List<PackageDocument>();
            var entries = index.Documents ?? [];
            for (var i = 0; i < entries.Count; i++)
            {
                var d = entries[i];
                var at = $"{path}: documents[{i}]";
                if (d is null)
                {
                    problems.Add($"{at}: must be an object");
                    continue;
                }
                CheckText(problems, at, "title", d.Title, 300);
                CheckText(problems, at, "source", d.Source, 1000);
                CheckText(problems, at, "origin", d.Origin, AppDefinitionReader.MaxTextLength);
                CheckText(problems, at, "mediaType", d.MediaType, 100);
                if (d.File is null || !files.Remove(d.File, out var file))
                {
                    problems.Add($"{at}: file '{Show(d.File ?? "")}' is not in the folder (or listed twice)");
                    continue;
                }
                documents.Add(new PackageDocument(d.Title, d.Source, d.Origin, d.MediaType, file.Bytes));
            }
            problems.AddRange(files.Keys.Select(f => $"'{PackageEntryNames.KnowledgeFolder}{folder.Key}/{f}' is not listed in {PackageEntryNames.DocumentIndex}"));
            if (problems.Count == before)
            {
                result.Add(new PackageKnowledgeBase(index.KnowledgeBase!, documents));
            }
        }
        return result;
    }

    private static List<EvaluationItem>? ReadEvaluation(EntryData entry, PackageLimits limits, List<string> problems)
    {
        if (Text(entry, problems) is not { } text)
        {
            return null;
        }
        var items = new List<EvaluationItem>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            if (items.Count == limits.MaxEvaluationItems)
            {
                problems.Add($"evaluation.jsonl: more than {limits.MaxEvaluationItems} items");
                return null;
            }
            var at = $"evaluation.jsonl: line {i + 1}";
            EvaluationItem? item;
            try
            {
                item = JsonSerializer.Deserialize<EvaluationItem>(line, PackageJson.Options);
            }
            catch (JsonException ex)
            {
                problems.Add($"{at}: {ex.Message}");
                continue;
            }
            if (item is null)
            {
                problems.Add($"{at}: must be an object");
                continue;
            }
            CheckText(problems, at, "question", item.Question, AppDefinitionReader.MaxTextLength);
            CheckText(problems, at, "expected", item.Expected, AppDefinitionReader.MaxInstructionsLength);
            CheckText(problems, at, "source", item.Source, 50);
            if (item.RequestId is { Length: > 100 })
            {
                problems.Add($"{at}: requestId: at most 100 characters");
            }
            items.Add(item);
        }
        return items;
    }

    private static T? Parse<T>(EntryData? entry, string name, List<string> problems) where T : class
    {
        if (entry is null)
        {
            problems.Add($"{name} is missing");
            return null;
        }
        if (Text(entry, problems) is not { } text)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(text, PackageJson.Options) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            problems.Add($"{name} is not valid: {ex.Message}");
            return null;
        }
    }

    /// <summary>The entry as strict UTF-8 text (a byte-order mark is allowed and dropped).</summary>
    private static string? Text(EntryData entry, List<string> problems)
    {
        try
        {
            var bytes = entry.Bytes.AsSpan();
            return StrictUtf8.GetString(bytes.StartsWith("\uFEFF"u8) ? bytes[3..] : bytes);
        }
        catch (DecoderFallbackException)
        {
            problems.Add($"'{entry.Name}' is not UTF-8 text");
            return null;
        }
    }

    private static void CheckText(List<string> problems, string at, string field, string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > max || value.Any(char.IsControl))
        {
            problems.Add($"{at}: {field}: required, 1 to {max} characters without control characters");
        }
    }
}
