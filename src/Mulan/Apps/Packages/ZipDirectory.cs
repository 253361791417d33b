using System.Buffers.Binary;

namespace Mulan.Apps.Packages;

/// <summary>
/// The compression method of each entry, read from the zip's central directory: <see cref="System.IO.Compression.ZipArchive"/>
/// does not expose it, and a package must be refused for an unsupported method before anything is decompressed.
/// </summary>
internal static class ZipDirectory
{
    public const ushort Stored = 0;
    public const ushort Deflate = 8;
    private const uint EndSignature = 0x06054b50;
    private const uint EntrySignature = 0x02014b50;
    private const int EndLength = 22;
    private const int EntryLength = 46;

    /// <summary>The methods in central-directory order (the order of <c>ZipArchive.Entries</c>); null with the reason when unreadable.</summary>
    public static IReadOnlyList<ushort>? Methods(ReadOnlySpan<byte> zip, out string? problem)
    {
        problem = null;
        var end = -1;
        // The end record is last, possibly followed by a comment of up to 65,535 bytes.
        for (var at = zip.Length - EndLength; at >= 0 && at >= zip.Length - EndLength - ushort.MaxValue; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip[at..]) == EndSignature)
            {
                end = at;
                break;
            }
        }
        if (end < 0)
        {
            problem = "is not a zip archive";
            return null;
        }
        var count = BinaryPrimitives.ReadUInt16LittleEndian(zip[(end + 10)..]);
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(zip[(end + 16)..]);
        if (count == ushort.MaxValue || offset == uint.MaxValue)
        {
            problem = "is a ZIP64 archive, which packages never need";
            return null;
        }
        var methods = new List<ushort>(count);
        var p = (long)offset;
        for (var i = 0; i < count; i++)
        {
            if (p + EntryLength > zip.Length || BinaryPrimitives.ReadUInt32LittleEndian(zip[(int)p..]) != EntrySignature)
            {
                problem = "has a damaged central directory";
                return null;
            }
            var entry = zip[(int)p..];
            methods.Add(BinaryPrimitives.ReadUInt16LittleEndian(entry[10..]));
            p += EntryLength + BinaryPrimitives.ReadUInt16LittleEndian(entry[28..]) + BinaryPrimitives.ReadUInt16LittleEndian(entry[30..])
                + BinaryPrimitives.ReadUInt16LittleEndian(entry[32..]);
        }
        return methods;
    }
}
