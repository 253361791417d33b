namespace Mulan.Apps.Copywriting;

/// <summary>How an SMS is encoded and into how many billed segments it splits.</summary>
/// <param name="Encoding">gsm-7 or ucs-2.</param>
/// <param name="Units">septets (GSM-7; an extension character such as € or { takes two) or UTF-16 code units (UCS-2; an emoji takes two).</param>
/// <param name="SegmentStarts">the index in the text where each segment begins (the first is 0).</param>
public sealed record SmsEncoding(string Encoding, int Units, int Segments, IReadOnlyList<int> SegmentStarts);

/// <summary>
/// Segment counting as the GSM 03.38 / 3GPP TS 23.040 rules give it. A message that fits one segment holds 160 GSM-7
/// septets or 70 UCS-2 units; a longer one is sent concatenated, and each part's user-data header (6 bytes) leaves
/// 153 septets or 67 units. One character outside the GSM-7 alphabet — any Chinese character — makes the whole
/// message UCS-2. A GSM-7 escape pair and a UTF-16 surrogate pair are never split between segments.
/// </summary>
public static class SmsSegments
{
    private const string Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    private const string Extension = "\f^{}\\[~]|€";

    public static SmsEncoding Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var gsm = text.All(c => (Basic.Contains(c, StringComparison.Ordinal) && c != '\u001b') || Extension.Contains(c, StringComparison.Ordinal));
        int UnitsOf(int i) => gsm ? (Extension.Contains(text[i], StringComparison.Ordinal) ? 2 : 1) : 1;
        var total = 0;
        for (var i = 0; i < text.Length; i++)
        {
            total += UnitsOf(i);
        }
        var (single, part) = gsm ? (160, 153) : (70, 67);
        if (total <= single)
        {
            return new SmsEncoding(gsm ? "gsm-7" : "ucs-2", total, text.Length == 0 ? 0 : 1, text.Length == 0 ? [] : [0]);
        }
        var starts = new List<int> { 0 };
        var used = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var size = !gsm && char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : UnitsOf(i);
            if (used + size > part)
            {
                starts.Add(i);
                used = 0;
            }
            used += size;
            i += !gsm && size == 2 ? 1 : 0;
        }
        return new SmsEncoding(gsm ? "gsm-7" : "ucs-2", total, starts.Count, starts);
    }
}
