using System.Globalization;
using Mulan.Speech.Adapters;

namespace Mulan.Speech.Engines;

/// <summary>
/// Reads <c>pocketsphinx_continuous -time yes</c>: one line per word, <c>word start end confidence</c>, each utterance
/// between <c>&lt;s&gt;</c> and <c>&lt;/s&gt;</c>. Fillers (<c>&lt;sil&gt;</c>, <c>[NOISE]</c>, <c>++…++</c>) are dropped and
/// alternative pronunciations (<c>the(2)</c>) lose their number.
/// </summary>
public static class PocketsphinxOutput
{
    public static Transcript Parse(string output)
    {
        var segments = new List<TranscriptSegment>();
        var words = new List<string>();
        double? start = null;
        double end = 0;
        void Close()
        {
            if (words.Count > 0)
            {
                segments.Add(new TranscriptSegment(start ?? 0, end, string.Join(' ', words)));
            }
            words.Clear();
            start = null;
        }
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 4 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var from)
                || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var to))
            {
                continue; // a hypothesis line or a log line that slipped through
            }
            var word = parts[0];
            if (word == "<s>")
            {
                Close();
                continue;
            }
            if (word == "</s>")
            {
                Close();
                continue;
            }
            if (word.StartsWith('<') || word.StartsWith('[') || word.StartsWith("++", StringComparison.Ordinal))
            {
                continue;
            }
            var paren = word.IndexOf('(');
            words.Add(paren > 0 ? word[..paren] : word);
            start ??= from;
            end = to;
        }
        Close();
        return new Transcript(Transcripts.Join(segments.Select(s => s.Text)), "en", segments);
    }
}
