using System.IO.Compression;
using System.Text;

namespace Mulan.Apps.Packages;

/// <summary>What reading a package gave: its contents, or every problem found (then nothing of it may be used).</summary>
public sealed record PackageReadResult(PackageContents? Contents, PackageManifest? Manifest, IReadOnlyList<string> Problems);

public static partial class AppPackage
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads and checks a package entirely in memory, within <paramref name="limits"/>: names, sizes and methods from the
    /// headers first, then every entry decompressed through a bound that a lying header cannot get past, then hashes
    /// against the manifest, then the JSON. Nothing is written anywhere.
    /// </summary>
    public static PackageReadResult Read(Stream input, PackageLimits limits)
    {
        var buffered = ReadAtMost(input, limits.MaxPackageBytes);
        if (buffered is null)
        {
            return Refused($"the package is larger than {limits.MaxPackageBytes} bytes");
        }
        var methods = ZipDirectory.Methods(buffered, out var notZip);
        if (methods is null)
        {
            return Refused($"the package {notZip}");
        }
        if (methods.Count > limits.MaxEntries)
        {
            return Refused($"the package has {methods.Count} entries, more than the {limits.MaxEntries} allowed");
        }
        // InvalidDataException is how System.IO.Compression reports a damaged archive, from the constructor, from the lazily
        // read central directory, or from an entry's data: all of it is a problem with the package.
        try
        {
            using var zip = new ZipArchive(new MemoryStream(buffered, writable: false), ZipArchiveMode.Read, leaveOpen: false, Encoding.UTF8);
            if (zip.Entries.Count != methods.Count)
            {
                return Refused("the package's central directory does not match its entries");
            }
            var problems = new List<string>();
            var accepted = CheckHeaders(zip, methods, limits, problems);
            if (problems.Count > 0)
            {
                return Refused(problems);
            }
            var data = Decompress(accepted, problems);
            return problems.Count > 0 ? Refused(problems) : Interpret(data, limits);
        }
        catch (InvalidDataException e)
        {
            return Refused($"the package is not a readable zip archive: {e.Message}");
        }
    }

    private sealed record Accepted(ZipArchiveEntry Entry, EntryKind Kind, string? Folder);

    private sealed record EntryData(string Name, EntryKind Kind, string? Folder, byte[] Bytes);

    /// <summary>Everything the headers alone tell, before a byte is decompressed.</summary>
    private static List<Accepted> CheckHeaders(ZipArchive zip, IReadOnlyList<ushort> methods, PackageLimits limits, List<string> problems)
    {
        var accepted = new List<Accepted>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        long declared = 0;
        for (var i = 0; i < zip.Entries.Count; i++)
        {
            var entry = zip.Entries[i];
            var name = entry.FullName;
            var shown = Show(name);
            if (PackageEntryNames.Unsafe(name) is { } unsafeName)
            {
                problems.Add($"'{shown}' {unsafeName}");
                continue;
            }
            // Case-insensitively: unzipped on Windows or macOS, "App.json" would overwrite "app.json".
            if (!seen.Add(name.Normalize(NormalizationForm.FormC)))
            {
                problems.Add($"'{shown}' appears more than once");
                continue;
            }
            var kind = PackageEntryNames.Classify(name, out var folder);
            if (kind == EntryKind.Unknown)
            {
                problems.Add($"'{shown}' is not part of a Mulan app package");
                continue;
            }
            if (entry.IsEncrypted)
            {
                problems.Add($"'{shown}' is encrypted");
                continue;
            }
            if (methods[i] is not (ZipDirectory.Stored or ZipDirectory.Deflate))
            {
                problems.Add($"'{shown}' uses compression method {methods[i]}; packages use only stored (0) or deflate (8)");
                continue;
            }
            var max = kind == EntryKind.Document ? limits.MaxEntryBytes : limits.MaxJsonBytes;
            if (entry.Length > max || entry.Length < 0)
            {
                problems.Add($"'{shown}' declares {entry.Length} bytes, more than the {max} allowed");
                continue;
            }
            if (entry.Length > limits.RatioCheckedFromBytes && entry.Length > limits.MaxCompressionRatio * Math.Max(1, entry.CompressedLength))
            {
                problems.Add($"'{shown}' expands {entry.Length / (double)Math.Max(1, entry.CompressedLength):0} times, more than the {limits.MaxCompressionRatio:0} allowed");
                continue;
            }
            if (kind == EntryKind.Folder)
            {
                if (entry.Length != 0)
                {
                    problems.Add($"'{shown}' is a folder with data");
                }
                continue;
            }
            declared += entry.Length;
            accepted.Add(new Accepted(entry, kind, folder));
        }
        if (declared > limits.MaxTotalBytes)
        {
            problems.Add($"the entries declare {declared} bytes in all, more than the {limits.MaxTotalBytes} allowed");
        }
        return accepted;
    }

    /// <summary>Each entry decompressed to at most the size its header declared (which the limits were checked against).</summary>
    private static List<EntryData> Decompress(List<Accepted> accepted, List<string> problems)
    {
        var data = new List<EntryData>();
        foreach (var (entry, kind, folder) in accepted)
        {
            byte[]? bytes;
            try
            {
                using var stream = entry.Open();
                bytes = ReadAtMost(stream, entry.Length);
            }
            catch (InvalidDataException e)
            {
                problems.Add($"'{entry.FullName}' is damaged: {e.Message}");
                continue;
            }
            if (bytes is null)
            {
                problems.Add($"'{entry.FullName}' holds more than the {entry.Length} bytes its header declares");
            }
            else if (bytes.Length != entry.Length)
            {
                problems.Add($"'{entry.FullName}' holds {bytes.Length} bytes, not the {entry.Length} its header declares");
            }
            else
            {
                data.Add(new EntryData(entry.FullName, kind, folder, bytes));
            }
        }
        return data;
    }

    /// <summary>All of <paramref name="stream"/>, or null as soon as it has more than <paramref name="max"/> bytes.</summary>
    private static byte[]? ReadAtMost(Stream stream, long max)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, max - total + 1))) > 0)
        {
            total += read;
            if (total > max)
            {
                return null;
            }
            copy.Write(buffer, 0, read);
        }
        return copy.ToArray();
    }

    // Names from a hostile package go into messages: no control characters, no screenfuls.
    private static string Show(string name)
    {
        var clean = new string([.. name.Select(c => char.IsControl(c) ? '?' : c)]);
        return clean.Length > 120 ? clean[..120] + "…" : clean;
    }

    private static PackageReadResult Refused(params IEnumerable<string> problems) => new(null, null, [.. problems]);
}
