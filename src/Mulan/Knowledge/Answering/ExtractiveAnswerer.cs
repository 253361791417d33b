using System.Text;
using Mulan.Knowledge.Chunking;
using Mulan.Knowledge.Indexing.Keyword;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Knowledge.Answering;

public sealed record Citation(int Marker, IndexedChunk Chunk);

/// <param name="Warning">why the answer is less than it could be (a model's reply that cited no source), for the caller to see.</param>
public sealed record Answer(string Text, bool Found, IReadOnlyList<Citation> Citations, string Mode, string? Warning = null)
{
    /// <summary>
    /// The rule every answer leaves with: a found answer lists exactly the citations whose marker is in its text, and
    /// has at least one; anything else is not found. So a reader can always check a found answer against its sources.
    /// </summary>
    public Answer Grounded(string question)
    {
        if (!Found)
        {
            return Citations.Count == 0 ? this : this with { Citations = [] };
        }
        var present = CitationMarkers.In(Text).ToHashSet();
        var cited = Citations.Where(c => present.Contains(c.Marker)).ToList();
        return cited.Count > 0
            ? this with { Citations = cited }
            : ExtractiveAnswerer.NotFound(question) with { Mode = Mode, Warning = "the answer cited none of the sources, so it is not given as found" };
    }
}

/// <summary>
/// Answers without a language model: quotes the sentences of the best chunks that carry the most of the
/// question's terms, each followed by its citation marker (joined to it by a no-break space, see <see cref="CitationMarkers"/>). When the best chunk holds too little of the question,
/// it says the knowledge base does not contain the answer instead of quoting something loosely related.
/// </summary>
public sealed class ExtractiveAnswerer
{
    /// <summary>Share of the question's distinct terms one of the top chunks must contain to count as an answer.</summary>
    public const double MinCoverage = 0.3;
    private const int MaxSentences = 3;
    private readonly ITextAnalyzer _analyzer = TextAnalyzers.Default;

    public Answer Answer(string question, IReadOnlyList<SearchResult> results)
    {
        var questionTerms = Terms(question);
        // The best of the top three: with hybrid search a chunk found by meaning alone may rank first.
        if (results.Count == 0 || questionTerms.Count == 0 || results.Take(3).Max(r => Coverage(questionTerms, r)) < MinCoverage)
        {
            return NotFound(question);
        }
        var candidates = new List<(double Score, int Rank, int Position, string Sentence)>();
        foreach (var (result, rank) in results.Take(3).Select((r, i) => (r, i)))
        {
            var sentences = Sentences.Split(result.Chunk.Text);
            for (var p = 0; p < sentences.Count; p++)
            {
                var sentence = sentences[p].Trim();
                if (sentence.Length < 2)
                {
                    continue;
                }
                var overlap = Terms(sentence).Intersect(questionTerms).Count();
                if (overlap > 0)
                {
                    candidates.Add((overlap / (double)questionTerms.Count / (1 + rank * 0.25), rank, p, sentence));
                }
            }
        }
        var chosen = candidates.OrderByDescending(c => c.Score).Take(MaxSentences)
            .Where(c => c.Score >= candidates.Max(x => x.Score) * 0.5)
            .OrderBy(c => c.Rank).ThenBy(c => c.Position).ToList();
        if (chosen.Count == 0)
        {
            return NotFound(question);
        }
        var citations = new List<Citation>();
        var text = new StringBuilder();
        foreach (var c in chosen)
        {
            var chunk = results[c.Rank].Chunk;
            var marker = citations.FindIndex(x => x.Chunk.Id == chunk.Id) + 1;
            if (marker == 0)
            {
                citations.Add(new Citation(citations.Count + 1, chunk));
                marker = citations.Count;
            }
            if (text.Length > 0 && !IsCjk(c.Sentence[0]))
            {
                text.Append(' ');
            }
            text.Append(c.Sentence).Append(CitationMarkers.NoBreakSpace).Append('[').Append(marker).Append(']');
        }
        return new Answer(text.ToString(), true, citations, "extractive");
    }

    private double Coverage(HashSet<string> questionTerms, SearchResult best) =>
        Terms(Chunker.IndexText(best.Chunk.Section, best.Chunk.Text)).Intersect(questionTerms).Count() / (double)questionTerms.Count;

    private HashSet<string> Terms(string text)
    {
        var terms = new List<string>();
        _analyzer.Analyze(text, terms);
        return [.. terms];
    }

    public static Answer NotFound(string question) => new(
        question.Any(IsCjk) ? "知识库中没有找到这个问题的答案。" : "The knowledge base does not contain an answer to this question.",
        false, [], "extractive");

    private static bool IsCjk(char c) => c is >= '\u3400' and <= '\u9fff' or >= '\uf900' and <= '\ufaff';
}
