namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Reads what little a client-supplied file name may tell: its extension and a display title. The name
/// is never used as a path; directory parts ("../", "C:\") are cut off and control characters removed.
/// </summary>
internal static class FileNames
{
    private const int MaxLeafLength = 255;
    private const int MaxExtensionLength = 16;

    /// <summary>The last path segment, cleaned and at most 255 characters.</summary>
    public static string Leaf(string fileName)
    {
        var cut = fileName.LastIndexOfAny(['/', '\\']);
        var leaf = TextNormalizer.Inline(cut >= 0 ? fileName[(cut + 1)..] : fileName);
        return leaf.Length > MaxLeafLength ? leaf[..MaxLeafLength] : leaf;
    }

    /// <summary>Lower-case extension with its dot (".pdf"), or empty when there is none or it looks odd.</summary>
    public static string Extension(string fileName)
    {
        var leaf = Leaf(fileName);
        var dot = leaf.LastIndexOf('.');
        if (dot < 0)
        {
            return "";
        }

        var extension = leaf[dot..].ToLowerInvariant();
        return extension.Length is > 1 and <= MaxExtensionLength && extension.Skip(1).All(char.IsAsciiLetterOrDigit)
            ? extension
            : "";
    }

    /// <summary>The file name without directories or extension, for documents that carry no title of their own.</summary>
    public static string Title(string fileName)
    {
        var leaf = Leaf(fileName);
        var extension = Extension(fileName);
        var title = extension.Length > 0 && leaf.Length > extension.Length ? leaf[..^extension.Length].Trim() : leaf;
        return title.Length > 0 ? title : "untitled";
    }

    /// <summary>A user-supplied extension fit to quote in an error reason.</summary>
    public static string Quoted(string fileName)
    {
        var extension = Extension(fileName);
        return extension.Length > 0 ? $"'{extension}'" : "(no file extension)";
    }

    public static bool HasExtension(string extension, params ReadOnlySpan<string> candidates)
    {
        var normalized = extension.StartsWith('.') ? extension : "." + extension;
        foreach (var candidate in candidates)
        {
            if (string.Equals(normalized, candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="mediaType"/> (parameters such as "; charset=" ignored) is one of the candidates.</summary>
    public static bool HasMediaType(string? mediaType, params ReadOnlySpan<string> candidates)
    {
        if (string.IsNullOrWhiteSpace(mediaType))
        {
            return false;
        }

        var semicolon = mediaType.IndexOf(';', StringComparison.Ordinal);
        var bare = (semicolon >= 0 ? mediaType[..semicolon] : mediaType).Trim();
        foreach (var candidate in candidates)
        {
            if (string.Equals(bare, candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
