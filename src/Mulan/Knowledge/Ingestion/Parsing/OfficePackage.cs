using DocumentFormat.OpenXml.Packaging;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>What the DOCX, XLSX and PPTX parsers share: the bomb check before opening, and the open settings.</summary>
internal static class OfficePackage
{
    /// <summary>Reads the upload and checks it is a sane zip package; <paramref name="label"/> is "DOCX", "XLSX" or "PPTX".</summary>
    public static ArraySegment<byte> Read(Stream input, string label, ParseLimits limits, CancellationToken ct)
    {
        var data = InputBuffer.Read(input, limits, ct);
        if (FormatSniffer.IsCompoundFile(data))
        {
            throw FormatSniffer.CompoundFileFailure(data, label);
        }

        ZipGuard.Check(data, Corrupt(label), limits, ct);
        return data;
    }

    public static string Corrupt(string label) => $"truncated or corrupt {label}";

    /// <summary>Read-only, and no part may be larger (in characters) than the package may inflate to in bytes.</summary>
    public static OpenSettings Settings(ParseLimits limits) => new()
    {
        AutoSave = false,
        MaxCharactersInPart = limits.MaxInflatedBytes,
    };

    /// <summary>The package's own title (core properties), if it has a non-blank one.</summary>
    public static string? Title(OpenXmlPackage package)
    {
        var title = TextNormalizer.Inline(package.PackageProperties.Title ?? "");
        return title.Length > 0 ? title : null;
    }
}
