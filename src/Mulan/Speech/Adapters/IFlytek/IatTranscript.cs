using System.Text;
using System.Text.Json.Nodes;

namespace Mulan.Speech.Adapters.IFlytek;

/// <summary>
/// Assembles one IAT session's results. Each result is a sentence numbered <c>sn</c> whose text is the concatenation of
/// <c>ws[].cw[0].w</c>. With dynamic correction (<c>dwa: wpgs</c>) a result says <c>pgs: "apd"</c> (append) or
/// <c>pgs: "rpl"</c> (it replaces the earlier sentences <c>rg[0]..rg[1]</c>), as the IAT WebAPI document describes and its
/// sample clients do. <c>bg</c>/<c>ed</c> of a result, when present, are its start and end in milliseconds of the session.
/// </summary>
internal sealed class IatTranscript
{
    private readonly SortedDictionary<int, Sentence> _sentences = [];

    private sealed record Sentence(string Text, int? Begin, int? End);

    /// <summary>Takes the <c>data.result</c> object of a frame.</summary>
    public void Add(JsonObject result)
    {
        var sn = Int(result["sn"]) ?? (_sentences.Count == 0 ? 1 : _sentences.Keys.Max() + 1);
        if (Str(result["pgs"]) == "rpl" && result["rg"] is JsonArray { Count: 2 } rg && Int(rg[0]) is { } from && Int(rg[1]) is { } to)
        {
            for (var i = from; i <= to; i++)
            {
                _sentences.Remove(i);
            }
        }
        var text = new StringBuilder();
        foreach (var ws in result["ws"] as JsonArray ?? [])
        {
            if (ws?["cw"] is JsonArray { Count: > 0 } cw)
            {
                text.Append(Str(cw[0]?["w"]));
            }
        }
        var begin = Int(result["bg"]);
        var end = Int(result["ed"]);
        _sentences[sn] = new Sentence(text.ToString(), begin, end is > 0 && end >= (begin ?? 0) ? end : null);
    }

    public string Text => string.Concat(_sentences.Values.Select(s => s.Text));

    /// <summary>Timed sentences, shifted by <paramref name="offset"/> seconds; empty unless every sentence was timed.</summary>
    public IReadOnlyList<TranscriptSegment> Segments(double offset)
    {
        var timed = _sentences.Values.Where(s => s.Text.Length > 0).ToList();
        if (timed.Count == 0 || timed.Any(s => s.End is null))
        {
            return [];
        }
        return [.. timed.Select(s => new TranscriptSegment(offset + (s.Begin ?? 0) / 1000.0, offset + s.End!.Value / 1000.0, s.Text))];
    }

    private static int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
