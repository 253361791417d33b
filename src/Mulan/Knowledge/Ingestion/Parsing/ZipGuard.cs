using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Decompression-bomb check for zip packages (DOCX, XLSX, PPTX), run before any package reader opens them.
/// Declared sizes are ignored: every entry is inflated through a counting loop with hard caps on total
/// bytes, entry count and compression ratio, so the work done here is itself bounded. XML entries are
/// also measured for nesting depth, which would otherwise overflow the readers' recursion.
/// </summary>
internal static class ZipGuard
{
    /// <summary>Ratios are only judged past this many inflated bytes: tiny repetitive parts legitimately compress very well.</summary>
    internal const long RatioGraceBytes = 1024 * 1024;

    /// <summary>Real Office parts nest a few dozen levels (tables in tables, groups in groups); readers recurse per level.</summary>
    internal const int MaxXmlDepth = 1_000;

    public static void Check(ArraySegment<byte> data, string corruptReason, ParseLimits limits, CancellationToken ct)
    {
        var declared = DeclaredEntryCount(data) ?? throw new DocumentParseException(corruptReason);
        if (declared > limits.MaxArchiveEntries)
        {
            throw TooManyEntries(limits);
        }

        ParseFailure.Guard(corruptReason, () =>
        {
            using var zip = new ZipArchive(InputBuffer.AsStream(data), ZipArchiveMode.Read);
            var entries = zip.Entries;
            if (entries.Count > limits.MaxArchiveEntries)
            {
                throw TooManyEntries(limits);
            }

            var buffer = ArrayPool<byte>.Shared.Rent(81_920);
            try
            {
                long total = 0;
                foreach (var entry in entries)
                {
                    total += Inflate(entry, data.Count, total, buffer, limits, ct);
                }

                if (total > RatioGraceBytes && total / Math.Max(1, data.Count) > limits.MaxCompressionRatio)
                {
                    throw new DocumentParseException($"archive expands more than {limits.MaxCompressionRatio}:1 (decompression bomb)");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return true;
        });
    }

    /// <summary>Entry count from the end-of-central-directory record (zip64 aware), or null when there is none (truncated file).</summary>
    internal static long? DeclaredEntryCount(ReadOnlySpan<byte> zip)
    {
        const int EocdSize = 22;
        const uint EocdSignature = 0x06054b50;
        const uint Zip64LocatorSignature = 0x07064b50;
        const uint Zip64EocdSignature = 0x06064b50;

        var lowest = Math.Max(0, zip.Length - EocdSize - ushort.MaxValue);
        for (var at = zip.Length - EocdSize; at >= lowest; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip[at..]) != EocdSignature)
            {
                continue;
            }

            long count = BinaryPrimitives.ReadUInt16LittleEndian(zip[(at + 10)..]);
            if (count != ushort.MaxValue)
            {
                return count;
            }

            // Zip64: the locator sits right before the classic record and points at the zip64 record.
            var locator = at - 20;
            if (locator < 0 || BinaryPrimitives.ReadUInt32LittleEndian(zip[locator..]) != Zip64LocatorSignature)
            {
                return count;
            }

            var record = BinaryPrimitives.ReadUInt64LittleEndian(zip[(locator + 8)..]);
            if (zip.Length < 56 || record > (ulong)(zip.Length - 56) || BinaryPrimitives.ReadUInt32LittleEndian(zip[(int)record..]) != Zip64EocdSignature)
            {
                return null;
            }

            var count64 = BinaryPrimitives.ReadUInt64LittleEndian(zip[((int)record + 32)..]);
            return count64 > long.MaxValue ? long.MaxValue : (long)count64;
        }

        return null;
    }

    private static long Inflate(ZipArchiveEntry entry, long archiveBytes, long inflatedSoFar, byte[] buffer, ParseLimits limits, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();

        // The declared compressed size only feeds the ratio, and can be no larger than the archive itself.
        var compressed = Math.Clamp(entry.CompressedLength, 1, Math.Max(1, archiveBytes));
        long inflated = 0;
        XmlDepthMeter? xml = null;
        using var stream = entry.Open();
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (inflated == 0 && XmlDepthMeter.LooksLikeXml(buffer.AsSpan(0, read)))
            {
                // Judged by content, not name: a package may declare any part name as its main document.
                xml = new XmlDepthMeter(MaxXmlDepth);
            }

            xml?.Feed(buffer.AsSpan(0, read));
            inflated += read;
            if (inflatedSoFar + inflated > limits.MaxInflatedBytes)
            {
                throw new DocumentParseException($"archive expands past {ByteSize.Format(limits.MaxInflatedBytes)}");
            }

            if (inflated > RatioGraceBytes && inflated / compressed > limits.MaxCompressionRatio)
            {
                throw new DocumentParseException($"archive entry expands more than {limits.MaxCompressionRatio}:1 (decompression bomb)");
            }

            if ((inflated & 0xF_FFFF) < read)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

        return inflated;
    }

    private static DocumentParseException TooManyEntries(ParseLimits limits) =>
        new($"archive has more than {ByteSize.Number(limits.MaxArchiveEntries)} entries");
}
