using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Speech.Adapters;

namespace Mulan.Speech;

/// <summary>A transcript in OpenAI's <c>response_format</c>s: json, text, srt, vtt, verbose_json.</summary>
public static class Transcripts
{
    public static readonly string[] Formats = ["json", "text", "srt", "verbose_json", "vtt"];

    /// <summary>Pieces joined with a space, except between Chinese (or Japanese) characters, which are written without one.</summary>
    public static string Join(IEnumerable<string> pieces)
    {
        var text = new StringBuilder();
        foreach (var piece in pieces.Select(p => p.Trim()).Where(p => p.Length > 0))
        {
            if (text.Length > 0 && !(IsWide(text[^1]) || IsWide(piece[0])))
            {
                text.Append(' ');
            }
            text.Append(piece);
        }
        return text.ToString();
    }

    internal static bool IsWide(char c) => c is >= '\u2E80' and <= '\u9FFF' or >= '\uF900' and <= '\uFAFF' or >= '\uFF00' and <= '\uFFEF' or >= '\u3000' and <= '\u303F'
        || char.IsSurrogate(c);

    /// <summary>The segments to show: the vendor's, or one covering the whole audio when it gave none.</summary>
    public static IReadOnlyList<TranscriptSegment> SegmentsOf(Transcript t, double duration) =>
        t.Segments.Count > 0 ? t.Segments : t.Text.Length == 0 ? [] : [new TranscriptSegment(0, duration, t.Text)];

    public static (string ContentType, byte[] Body) Render(Transcript t, string format, double duration, Func<JsonObject> usage)
    {
        switch (format)
        {
            case "text":
                return ("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(t.Text + "\n"));
            case "srt":
                return ("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(Srt(SegmentsOf(t, duration))));
            case "vtt":
                return ("text/vtt; charset=utf-8", Encoding.UTF8.GetBytes(Vtt(SegmentsOf(t, duration))));
            case "verbose_json":
                var segments = new JsonArray();
                var i = 0;
                foreach (var s in SegmentsOf(t, duration))
                {
                    segments.Add(new JsonObject
                    {
                        ["id"] = i++, ["seek"] = 0, ["start"] = Math.Round(s.Start, 3), ["end"] = Math.Round(s.End, 3), ["text"] = s.Text,
                        ["tokens"] = new JsonArray(), ["temperature"] = 0.0, ["avg_logprob"] = 0.0, ["compression_ratio"] = 0.0, ["no_speech_prob"] = 0.0,
                    });
                }
                var verbose = new JsonObject
                {
                    ["task"] = "transcribe", ["language"] = LanguageName(t.Language), ["duration"] = Math.Round(duration, 3), ["text"] = t.Text,
                    ["segments"] = segments, ["usage"] = usage(),
                };
                return ("application/json", Encoding.UTF8.GetBytes(verbose.ToJsonString(Gateway.Wire.WireJson.Serializer)));
            default:
                return ("application/json", Encoding.UTF8.GetBytes(new JsonObject { ["text"] = t.Text, ["usage"] = usage() }.ToJsonString(Gateway.Wire.WireJson.Serializer)));
        }
    }

    public static string Srt(IReadOnlyList<TranscriptSegment> segments)
    {
        var text = new StringBuilder();
        for (var i = 0; i < segments.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i + 1}\n{Stamp(segments[i].Start, ',')} --> {Stamp(segments[i].End, ',')}\n{OneLine(segments[i].Text)}\n\n");
        }
        return text.ToString();
    }

    public static string Vtt(IReadOnlyList<TranscriptSegment> segments)
    {
        var text = new StringBuilder("WEBVTT\n\n");
        foreach (var s in segments)
        {
            // "-->" inside a cue would end its timing line: it cannot appear in cue text.
            text.Append(CultureInfo.InvariantCulture, $"{Stamp(s.Start, '.')} --> {Stamp(s.End, '.')}\n{OneLine(s.Text).Replace("-->", "->", StringComparison.Ordinal)}\n\n");
        }
        return text.ToString();
    }

    // A blank line ends a cue in both formats.
    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Stamp(double seconds, char separator)
    {
        var t = TimeSpan.FromMilliseconds(Math.Round(Math.Max(0, seconds) * 1000));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}{separator}{t.Milliseconds:000}");
    }

    /// <summary>OpenAI's verbose_json names the language in English ("english", "chinese").</summary>
    private static string LanguageName(string? code) => code?.ToLowerInvariant() switch
    {
        null or "" => "unknown",
        var c when c.StartsWith("zh", StringComparison.Ordinal) || c == "cmn" => "chinese",
        var c when c.StartsWith("en", StringComparison.Ordinal) => "english",
        "yue" => "cantonese",
        var c when c.Length > 3 => c,
        var c => CultureInfo.GetCultures(CultureTypes.NeutralCultures).FirstOrDefault(x => x.TwoLetterISOLanguageName == c)?.EnglishName.ToLowerInvariant() ?? c,
    };
}
