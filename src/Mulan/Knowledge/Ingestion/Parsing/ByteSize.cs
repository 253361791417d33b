using System.Globalization;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>Sizes in user-facing reasons: "512 MiB", "64 KiB", "1,000 bytes".</summary>
internal static class ByteSize
{
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => Number(bytes >> 30) + " GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => Number(bytes >> 20) + " MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => Number(bytes >> 10) + " KiB",
        _ => Number(bytes) + " bytes",
    };

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
