using System.Buffers;
using System.Text;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// Decodes uploaded text whose encoding nobody declared: a BOM (UTF-8/16/32) wins; then a declared charset
/// (HTML); then strict UTF-8; then GB18030 against Big5, judged by how many invalid sequences and how many
/// of the most frequent Chinese characters each yields; Windows-1252 when neither looks like Chinese.
/// Binary data (many control bytes) is refused rather than decoded into noise.
/// </summary>
internal static class TextDecoder
{
    // The most frequent characters of Chinese text, in both scripts. Bytes of one encoding read as the
    // other land on rare characters, so a frequency score separates GB18030 from Big5 reliably.
    private const string CommonHan =
        "的一是不了在人有我他這这個个們们中來来上大為为和國国地到以說说時时要就出會会可也你對对生能而子那得於于著着下自之年過过發发後后作裡里用道行所然家種种事成方多經经么麼去法學学如都同現现當当沒没動动面起看定天分還还進进好小部其些主樣样理心她本前開开但因只從从想實实日者意無无力它與与長长把機机十民第公此已工使情明性知全三又關关點点正業业外將将兩两高間间由問问很最重並并物手應应向頭头文體体政美相見见被利什二等產产或新己制身果加西月話话合回特代內内信表化老給给世位次度門门任常先海通教兒儿原東东聲声提立及比員员解水名真論论處处走義义各入幾几口認认條条平系氣气題题活更別别打女變变四神總总何電电數数安少報报才結结反受目太量再感建務务做接必場场件計计管期市直資资命山金指";

    private const int SampleBytes = 256 * 1024;

    private static readonly SearchValues<char> CommonHanSet = SearchValues.Create(CommonHan);

    private static readonly Lazy<bool> CodePages = new(() =>
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return true;
    });

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Decode(ReadOnlySpan<byte> bytes, string? declaredCharset = null)
    {
        if (DecodeBom(bytes) is { } withBom)
        {
            return withBom;
        }

        if (LooksBinary(bytes[..Math.Min(bytes.Length, SampleBytes)]))
        {
            throw new DocumentParseException("binary data, not text");
        }

        if (declaredCharset is not null && Declared(declaredCharset) is { } declared)
        {
            return declared.GetString(bytes);
        }

        if (TryUtf8(bytes, out var utf8))
        {
            return utf8;
        }

        // Judge on a sample; a character cut at its end costs both candidates alike.
        var sample = bytes[..Math.Min(bytes.Length, SampleBytes)];
        var (gbScore, gbHan) = Score(DecodeAs(sample, "GB18030"));
        var (big5Score, big5Han) = Score(DecodeAs(sample, "big5"));
        var encoding = Math.Max(gbScore, big5Score) <= 0 || Math.Max(gbHan, big5Han) == 0 ? "windows-1252"
            : gbScore >= big5Score ? "GB18030"
            : "big5";
        return DecodeAs(bytes, encoding);
    }

    /// <summary>
    /// An encoding a document declares (HTML meta charset), if .NET knows it and it is ASCII-compatible: a page
    /// whose bytes were read far enough to find the declaration cannot be UTF-16 or UTF-32, and UTF-7 is refused
    /// as browsers refuse it.
    /// </summary>
    public static Encoding? Declared(string charset)
    {
        _ = CodePages.Value;
        var name = charset.Trim().Trim('"', '\'').ToLowerInvariant();
        if (name is "gb2312" or "gbk" or "x-gbk" or "gb_2312-80")
        {
            // Browsers read GB2312 and GBK labels as GB18030, a strict superset.
            return Encoding.GetEncoding("GB18030");
        }

        try
        {
            var encoding = Encoding.GetEncoding(name);
            return encoding.CodePage is 1200 or 1201 or 12000 or 12001 or 65000 ? null : encoding;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private static string? DecodeBom(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return Encoding.UTF8.GetString(bytes[3..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
        {
            return Encoding.UTF32.GetString(bytes[4..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
        {
            return new UTF32Encoding(bigEndian: true, byteOrderMark: false).GetString(bytes[4..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return Encoding.Unicode.GetString(bytes[2..]);
        }

        return bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) ? Encoding.BigEndianUnicode.GetString(bytes[2..]) : null;
    }

    /// <summary>Text without a BOM (UTF-16 and UTF-32 carry one) has next to no control bytes; binary data has about one in ten.</summary>
    private static bool LooksBinary(ReadOnlySpan<byte> sample)
    {
        var controls = 0;
        foreach (var b in sample)
        {
            controls += b is < 0x09 or (> 0x0D and < 0x20) or 0x7F ? 1 : 0;
        }

        return controls > Math.Max(8, sample.Length / 20);
    }

    private static bool TryUtf8(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            // A file cut in the middle of a character is still UTF-8.
            var cut = bytes.Length - 1;
            while (cut >= 0 && bytes.Length - cut <= 3 && (bytes[cut] & 0xC0) == 0x80)
            {
                cut--;
            }

            if (cut >= 0 && cut > bytes.Length - 4 && bytes[cut] >= 0xC0)
            {
                try
                {
                    text = StrictUtf8.GetString(bytes[..cut]);
                    return true;
                }
                catch (DecoderFallbackException)
                {
                }
            }

            text = "";
            return false;
        }
    }

    private static string DecodeAs(ReadOnlySpan<byte> bytes, string name)
    {
        _ = CodePages.Value;
        return Encoding.GetEncoding(name).GetString(bytes);
    }

    /// <summary>Frequent Han characters count for a decoding, replacement characters against it.</summary>
    private static (long Score, long Han) Score(string text)
    {
        long common = 0, han = 0, invalid = 0;
        foreach (var c in text)
        {
            if (c == '\uFFFD')
            {
                invalid++;
            }
            else if (c is >= '\u4E00' and <= '\u9FFF')
            {
                han++;
                if (CommonHanSet.Contains(c))
                {
                    common++;
                }
            }
        }

        return (common - (5 * invalid), han);
    }
}
