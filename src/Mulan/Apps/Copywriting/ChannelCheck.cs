using System.Globalization;
using System.Text;
using Mulan.Apps.Compliance;

namespace Mulan.Apps.Copywriting;

/// <summary>
/// Checks generated copy against a channel's limits. Findings cover what lies beyond the limit (from the first
/// character too many to the end of the title or body), so an editor can highlight exactly what to cut.
/// </summary>
/// <remarks>
/// <para>How the title is recognised: the first line that starts with a title marker — <c>标题:</c>, <c>標題:</c>
/// (either colon), <c>Title:</c>, <c>Headline:</c> or a Markdown heading <c># </c> — is the title, without its marker.
/// Failing that, when the channel has titles and the copy has more than one non-empty line, the first non-empty line
/// is the title. One line alone is all body. The body is what follows the title line (a <c>正文:</c>,
/// <c>Body:</c> or <c>Description:</c> marker at its start is not counted), trimmed; lines before a marked title are
/// taken for the model's preamble and not checked.</para>
/// <para>SMS copy has no title: the whole trimmed text is the message, counted by <see cref="SmsSegments"/>.</para>
/// </remarks>
public static class ChannelCheck
{
    public const string TitleLength = "channel.title_length";
    public const string BodyLength = "channel.body_length";
    public const string SmsSegmentCount = "channel.sms_segments";
    public const string Category = "channel";

    private static readonly string[] TitleMarkers = ["标题:", "标题：", "標題:", "標題：", "title:", "headline:", "# "];
    private static readonly string[] BodyMarkers = ["正文:", "正文：", "body:", "description:", "描述:", "描述："];

    /// <summary>Where the title and the body are in <paramref name="copy"/>, as UTF-16 start and length; no title: null.</summary>
    public static ((int Start, int Length)? Title, (int Start, int Length) Body) Split(string copy, ChannelPreset preset)
    {
        ArgumentNullException.ThrowIfNull(copy);
        ArgumentNullException.ThrowIfNull(preset);
        var lines = Lines(copy);
        (int Start, int Length)? title = null;
        var bodyFrom = 0;
        if (preset.MaxSegments is null)
        {
            foreach (var (start, length) in lines)
            {
                var line = copy.Substring(start, length).TrimStart();
                if (TitleMarkers.FirstOrDefault(m => line.StartsWith(m, StringComparison.OrdinalIgnoreCase)) is { } marker)
                {
                    title = Trim(copy, start + (length - line.Length) + marker.Length, start + length);
                    bodyFrom = start + length;
                    break;
                }
            }
            var nonEmpty = lines.Where(l => !copy.AsSpan(l.Start, l.Length).IsWhiteSpace()).ToList();
            if (title is null && preset.TitleMaxCharacters is not null && nonEmpty.Count > 1)
            {
                title = Trim(copy, nonEmpty[0].Start, nonEmpty[0].Start + nonEmpty[0].Length);
                bodyFrom = nonEmpty[0].Start + nonEmpty[0].Length;
            }
        }
        var body = Trim(copy, bodyFrom, copy.Length);
        var head = copy.Substring(body.Start, body.Length);
        if (BodyMarkers.FirstOrDefault(m => head.StartsWith(m, StringComparison.OrdinalIgnoreCase)) is { } bodyMarker)
        {
            body = Trim(copy, body.Start + bodyMarker.Length, body.Start + body.Length);
        }
        return (title, body);
    }

    public static IReadOnlyList<ComplianceFinding> Check(string copy, ChannelPreset preset)
    {
        var (title, body) = Split(copy, preset);
        var findings = new List<ComplianceFinding>();
        if (title is { } t && preset.TitleMaxCharacters is { } titleMax)
        {
            Limit(copy, t, titleMax, preset, TitleLength, "title", findings);
        }
        if (preset.BodyMaxCharacters is { } bodyMax)
        {
            Limit(copy, body, bodyMax, preset, BodyLength, preset.Name == "english-ad" ? "description" : "body", findings);
        }
        if (preset.MaxSegments is { } maxSegments)
        {
            var sms = SmsSegments.Count(copy.Substring(body.Start, body.Length));
            if (sms.Segments > maxSegments)
            {
                var from = body.Start + sms.SegmentStarts[maxSegments];
                findings.Add(new ComplianceFinding(copy[from..(body.Start + body.Length)], from, body.Start + body.Length - from, SmsSegmentCount, Category,
                    Detail: string.Create(CultureInfo.InvariantCulture,
                        $"{sms.Segments} segments ({sms.Encoding}, {sms.Units} units; one segment holds {(sms.Encoding == "gsm-7" ? 160 : 70)}, each part of a longer message {(sms.Encoding == "gsm-7" ? 153 : 67)}); {preset.Name} allows {maxSegments}")));
            }
        }
        return findings;
    }

    /// <summary>Characters as the channel counts them: code points, a wide one as two where the channel says so.</summary>
    public static int Count(ReadOnlySpan<char> text, ChannelPreset preset)
    {
        var count = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            count += Width(rune, preset);
        }
        return count;
    }

    private static void Limit(string copy, (int Start, int Length) span, int max, ChannelPreset preset, string rule, string what, List<ComplianceFinding> findings)
    {
        var count = 0;
        int? over = null;
        for (var i = span.Start; i < span.Start + span.Length;)
        {
            var rune = Rune.GetRuneAt(copy, i);
            count += Width(rune, preset);
            if (count > max && over is null)
            {
                over = i;
            }
            i += rune.Utf16SequenceLength;
        }
        if (over is { } from)
        {
            var end = span.Start + span.Length;
            findings.Add(new ComplianceFinding(copy[from..end], from, end - from, rule, Category,
                Detail: string.Create(CultureInfo.InvariantCulture, $"{what} is {count} characters{(preset.WideCountsAsTwo ? " (a wide character counts as two)" : "")}; {preset.Name} allows {max}")));
        }
    }

    private static int Width(Rune rune, ChannelPreset preset) => preset.WideCountsAsTwo && IsWide(rune.Value) ? 2 : 1;

    // East Asian wide and full-width blocks: CJK, kana, Hangul, full-width forms, the supplementary ideographs.
    private static bool IsWide(int c) =>
        c is (>= 0x1100 and <= 0x115F) or (>= 0x2E80 and <= 0xA4CF) or (>= 0xAC00 and <= 0xD7A3) or (>= 0xF900 and <= 0xFAFF)
            or (>= 0xFE30 and <= 0xFE4F) or (>= 0xFF00 and <= 0xFF60) or (>= 0xFFE0 and <= 0xFFE6) or (>= 0x20000 and <= 0x3FFFD);

    private static List<(int Start, int Length)> Lines(string text)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == '\n')
            {
                var end = i > start && text[i - 1] == '\r' ? i - 1 : i;
                lines.Add((start, end - start));
                start = i + 1;
            }
        }
        return lines;
    }

    private static (int Start, int Length) Trim(string text, int start, int end)
    {
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }
        return (start, end - start);
    }
}
