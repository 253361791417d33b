using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mulan.Apps.Packages;

/// <summary>
/// What an app package carries: one version of the definition and, when asked for, the documents of its knowledge
/// bases and evaluation items. There is deliberately no place here for keys, usage, conversations or who the end
/// users are, so an export cannot leak them whatever the caller passes.
/// </summary>
/// <param name="Version">the app version the definition is.</param>
/// <param name="KnowledgeBases">null: documents not included.</param>
/// <param name="Evaluation">null: evaluation items not included.</param>
public sealed record PackageContents(AppDefinition Definition, int Version, DateTimeOffset ExportedAt,
    IReadOnlyList<PackageKnowledgeBase>? KnowledgeBases = null, IReadOnlyList<EvaluationItem>? Evaluation = null);

/// <param name="Name">the knowledge base's name as the definition refers to it.</param>
public sealed record PackageKnowledgeBase(string Name, IReadOnlyList<PackageDocument> Documents);

/// <param name="Source">the file name it is parsed as (its extension chooses the parser).</param>
/// <param name="Origin">the file name or URL it was uploaded as: uploading it again replaces it.</param>
/// <param name="Content">the original bytes, as uploaded.</param>
public sealed record PackageDocument(string Title, string Source, string Origin, string MediaType, ReadOnlyMemory<byte> Content);

/// <summary>A question with the answer it should get; from feedback, where someone wrote the correct answer.</summary>
/// <param name="Source">where the item came from: feedback.</param>
/// <param name="RequestId">the answer the correction was given on.</param>
public sealed record EvaluationItem(string Question, string Expected, string Source, string? RequestId);

/// <summary><c>manifest.json</c>: what the package is and the SHA-256 of every other entry.</summary>
public sealed record PackageManifest(int FormatVersion, PackageApp App, DateTimeOffset ExportedAt, string MulanVersion, PackageIncludes Includes,
    IReadOnlyDictionary<string, string> Entries);

public sealed record PackageApp(string Slug, string Name, string Kind, int Version);

/// <param name="KnowledgeBases">the knowledge bases whose documents are included.</param>
public sealed record PackageIncludes(bool Documents, bool Evaluation, IReadOnlyList<string> KnowledgeBases, int DocumentCount, int EvaluationItems);

/// <summary><c>knowledge/&lt;folder&gt;/documents.json</c>: the real name of the knowledge base and its documents' metadata.</summary>
public sealed record PackageDocumentIndex(string KnowledgeBase, IReadOnlyList<PackageDocumentEntry> Documents);

/// <param name="File">the entry's file name within the folder.</param>
public sealed record PackageDocumentEntry(string File, string Title, string Source, string Origin, string MediaType);

/// <summary>Bounds on what reading a package may cost, checked before and while anything is decompressed.</summary>
public sealed record PackageLimits
{
    /// <summary>The package file itself, in bytes. Default 256 MiB.</summary>
    public long MaxPackageBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Entries in the zip, folders included. Default 2,000.</summary>
    public int MaxEntries { get; init; } = 2_000;

    /// <summary>One entry, uncompressed, in bytes. Default 64 MiB.</summary>
    public long MaxEntryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>All entries together, uncompressed, in bytes. Default 512 MiB.</summary>
    public long MaxTotalBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>A JSON entry (manifest, definition, document index, evaluation items), uncompressed, in bytes. Default 4 MiB.</summary>
    public long MaxJsonBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>Uncompressed to compressed size, for entries larger than <see cref="RatioCheckedFromBytes"/>. Default 100.</summary>
    public double MaxCompressionRatio { get; init; } = 100;

    /// <summary>Small entries compress far better than that and are harmless; default 64 KiB.</summary>
    public long RatioCheckedFromBytes { get; init; } = 64 * 1024;

    /// <summary>Evaluation items. Default 10,000.</summary>
    public int MaxEvaluationItems { get; init; } = 10_000;

    public static PackageLimits Default { get; } = new();
}

internal static class PackageJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
        MaxDepth = 16,
    };
}
