using System.Buffers.Binary;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>Recognizes image files by magic bytes and reads their pixel size without decoding them.</summary>
internal static class ImageHeader
{
    public static bool IsImage(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])
        || head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])
        || head.StartsWith("II*\0"u8)
        || head.StartsWith("MM\0*"u8)
        || head.StartsWith("GIF87a"u8)
        || head.StartsWith("GIF89a"u8)
        || (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8));

    /// <summary>Width × height for PNG, JPEG, GIF and BMP; null when the header does not say (the OCR engine then judges).</summary>
    public static long? Pixels(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 24 && data.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']))
        {
            return (long)BinaryPrimitives.ReadUInt32BigEndian(data[16..]) * BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        }

        if (data.Length >= 10 && data.StartsWith("GIF8"u8))
        {
            return (long)BinaryPrimitives.ReadUInt16LittleEndian(data[6..]) * BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
        }

        if (data.Length >= 26 && data.StartsWith("BM"u8))
        {
            return Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[18..]) * BinaryPrimitives.ReadInt32LittleEndian(data[22..]));
        }

        return data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) ? JpegPixels(data) : null;
    }

    private static long? JpegPixels(ReadOnlySpan<byte> data)
    {
        var at = 2;
        while (at + 9 < data.Length)
        {
            if (data[at] != 0xFF)
            {
                return null;
            }

            var marker = data[at + 1];
            if (marker is 0xFF)
            {
                at++;
                continue;
            }

            // Start-of-frame markers (baseline, progressive, ...) carry the size; C4/C8/CC are not frames.
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                return (long)BinaryPrimitives.ReadUInt16BigEndian(data[(at + 5)..]) * BinaryPrimitives.ReadUInt16BigEndian(data[(at + 7)..]);
            }

            at += 2 + BinaryPrimitives.ReadUInt16BigEndian(data[(at + 2)..]);
        }

        return null;
    }
}
