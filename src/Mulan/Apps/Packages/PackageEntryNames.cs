using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mulan.Apps.Packages;

/// <summary>
/// The names entries may have. A reader never extracts to disk, but a package is also a file people unzip; so a name
/// must be a plain relative path that stays inside the folder it is unzipped into on every system, whatever the tool.
/// </summary>
public static partial class PackageEntryNames
{
    public const string Manifest = "manifest.json";
    public const string Definition = "app.json";
    public const string Evaluation = "evaluation.jsonl";
    public const string KnowledgeFolder = "knowledge/";
    public const string DocumentIndex = "documents.json";
    private const int MaxSegmentLength = 100;

    [GeneratedRegex(@"^[0-9]{1,5}-.+$")]
    private static partial Regex DocumentFilePattern();

    /// <summary>Why the name is unsafe, or null when it is a plain relative path.</summary>
    public static string? Unsafe(string name)
    {
        if (name.Length == 0 || name.Length > 260)
        {
            return "has an empty or overlong name";
        }
        if (name.Any(char.IsControl))
        {
            return "has control characters in its name";
        }
        if (name.Contains('\\', StringComparison.Ordinal))
        {
            return "uses backslashes in its name";
        }
        if (name.Contains(':', StringComparison.Ordinal))
        {
            return "has a drive letter or a ':' in its name";
        }
        if (name.StartsWith('/') || name.StartsWith('~'))
        {
            return "has an absolute path";
        }
        // Full-width dots and slashes (U+FF0E, U+FF0F) become '.' and '/' under compatibility normalisation, which
        // some file systems and tools apply.
        foreach (var form in new[] { name, name.Normalize(NormalizationForm.FormKC) })
        {
            var segments = form.TrimEnd('/').Split('/');
            if (segments.Any(s => s.Length == 0 || s.Trim() is "." or ".." || s.Trim().Length == 0) || form.Contains('\\', StringComparison.Ordinal) || form.Contains(':', StringComparison.Ordinal))
            {
                return "has a path that leaves its folder";
            }
        }
        var root = Path.GetFullPath(Path.Combine(Path.GetTempPath(), "mulan-package-root")) + Path.DirectorySeparatorChar;
        return Path.GetFullPath(Path.Combine(root, name)).StartsWith(root, StringComparison.Ordinal) ? null : "has a path that leaves its folder";
    }

    /// <summary>A file or folder name made of letters, digits, '-', '_' and '.', safe on every system, never empty.</summary>
    public static string Safe(string name)
    {
        var b = new StringBuilder(Math.Min(name.Length, MaxSegmentLength));
        foreach (var ch in name.Normalize(NormalizationForm.FormC))
        {
            if (b.Length == MaxSegmentLength)
            {
                break;
            }
            var ok = char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.' || CharUnicodeInfo.GetUnicodeCategory(ch) is UnicodeCategory.NonSpacingMark;
            b.Append(ok ? ch : '-');
        }
        var safe = b.ToString().Trim('.', '-');
        return safe.Length == 0 ? "file" : safe;
    }

    public static bool IsSafe(string segment) => segment == Safe(segment);

    public static string DocumentFile(int index, string origin)
    {
        var name = origin;
        // The last segment of a path or URL: "hr/leave.md" and "https://x/leave?id=1" keep what says what it is.
        var slash = name.TrimEnd('/').LastIndexOf('/');
        if (slash >= 0)
        {
            name = name[(slash + 1)..];
        }
        return $"{index.ToString(CultureInfo.InvariantCulture)}-{Safe(name)}";
    }

    /// <summary>What an entry of a well-formed package is: manifest, definition, evaluation, a folder's index, a document, a folder, or unknown.</summary>
    public static EntryKind Classify(string name, out string? folder)
    {
        folder = null;
        switch (name)
        {
            case Manifest: return EntryKind.Manifest;
            case Definition: return EntryKind.Definition;
            case Evaluation: return EntryKind.Evaluation;
            case KnowledgeFolder: return EntryKind.Folder;
        }
        if (!name.StartsWith(KnowledgeFolder, StringComparison.Ordinal))
        {
            return EntryKind.Unknown;
        }
        var parts = name[KnowledgeFolder.Length..].Split('/');
        if (parts.Length != 2 || !IsSafe(parts[0]))
        {
            return EntryKind.Unknown;
        }
        folder = parts[0];
        if (parts[1].Length == 0)
        {
            return EntryKind.Folder;
        }
        if (parts[1] == DocumentIndex)
        {
            return EntryKind.DocumentIndex;
        }
        return DocumentFilePattern().IsMatch(parts[1]) && IsSafe(parts[1]) ? EntryKind.Document : EntryKind.Unknown;
    }
}

public enum EntryKind
{
    Unknown,
    Manifest,
    Definition,
    Evaluation,
    Folder,
    DocumentIndex,
    Document,
}
