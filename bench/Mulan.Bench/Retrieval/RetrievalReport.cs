using System.Globalization;
using System.Text;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Retrieval;

internal sealed record QualityResult(string Variant, string Analyzer, string Engine, RetrievalScores Scores);

/// <summary>The Markdown report: quality per variant and analyzer, the engine comparison, speed.</summary>
internal sealed class RetrievalReport(string[] args, IReadOnlyList<string> notes)
{
    public List<QualityResult> Quality { get; } = [];

    public List<QualityResult> Engines { get; } = [];

    public List<SpeedResult> Speed { get; } = [];

    public List<VectorSpeedResult> VectorSpeed { get; } = [];

    public List<(string Corpus, int Passages, int Queries)> Corpora { get; } = [];

    public string ToMarkdown(TimeSpan elapsed, string runtime, string defaultAnalyzer)
    {
        var text = new StringBuilder();
        text.AppendLine("## Retrieval quality (docs/quality.md §3)").AppendLine();
        text.AppendLine(Invariant($"Arguments: `{string.Join(' ', args)}`; {Environment.ProcessorCount} cores, {runtime}; {elapsed.TotalSeconds:F0} s; load average at the end {LoadAverage()}. Default analyzer: `{defaultAnalyzer}`."));
        text.AppendLine();
        foreach (var (corpus, passages, queries) in Corpora)
        {
            text.AppendLine(Invariant($"- {corpus}: {passages:N0} passages, {queries:N0} queries over its variants"));
        }

        foreach (var note in notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine().AppendLine("### MRR@10 by variant").AppendLine();
        var variants = Quality.Select(r => r.Variant).Distinct().ToList();
        var analyzers = Quality.Select(r => r.Analyzer).Distinct().ToList();
        var matrix = new MarkdownTable(["analyzer", .. variants]);
        foreach (var analyzer in analyzers)
        {
            matrix.Row([analyzer, .. variants.Select(v => Quality.FirstOrDefault(r => r.Analyzer == analyzer && r.Variant == v) is { } r ? F3(r.Scores.Mrr10) : "")]);
        }

        text.Append(matrix).AppendLine();
        text.AppendLine($"### MRR@10 against `{defaultAnalyzer}`: difference and 95% paired bootstrap interval").AppendLine();
        var deltas = new MarkdownTable(["analyzer", .. variants]);
        foreach (var analyzer in analyzers.Where(a => a != defaultAnalyzer))
        {
            deltas.Row([analyzer, .. variants.Select(v => Delta(v, analyzer, defaultAnalyzer))]);
        }

        text.Append(deltas).AppendLine().AppendLine("### All figures").AppendLine();
        text.Append(Table(Quality, withEngine: false));
        if (Engines.Count > 0)
        {
            text.AppendLine().AppendLine($"### Engines side by side (analyzer `{defaultAnalyzer}`)").AppendLine();
            text.Append(Table([.. Engines.OrderBy(r => variants.IndexOf(r.Variant))], withEngine: true));
        }

        if (Speed.Count > 0)
        {
            text.AppendLine().AppendLine(Invariant($"### Build and search speed at {Speed[0].Chunks:N0} chunks (pooled corpus replicated; arms interleaved, medians over rounds)")).AppendLine();
            var speed = new MarkdownTable("analyzer", "engine", "build MB/s, 1 thread", $"build MB/s, {Environment.ProcessorCount} threads",
                "search p50 ms", "p95 ms", "p99 ms", $"queries/s, {Environment.ProcessorCount} threads", "heap MB");
            foreach (var s in Speed)
            {
                speed.Row(s.Analyzer, s.Engine, F1(s.BuildMegabytesPerSecond), F1(s.ParallelBuildMegabytesPerSecond), F2(s.P50Milliseconds),
                    F2(s.P95Milliseconds), F2(s.P99Milliseconds), Invariant($"{s.ParallelQueriesPerSecond:F0}"), Invariant($"{s.HeapMegabytes:F0}"));
            }

            text.Append(speed);
        }

        if (VectorSpeed.Count > 0)
        {
            text.AppendLine().AppendLine("### Exact vector search (VectorIndex, top 50, one query at a time)").AppendLine();
            var vectors = new MarkdownTable("vectors", "dimensions", "adds/s", "search p50 ms", "p95 ms", "p99 ms", "heap MB");
            foreach (var v in VectorSpeed)
            {
                vectors.Row(Invariant($"{v.Vectors:N0}"), Invariant($"{v.Dimensions}"), Invariant($"{v.AddsPerSecond:N0}"), F2(v.P50Milliseconds),
                    F2(v.P95Milliseconds), F2(v.P99Milliseconds), Invariant($"{v.HeapMegabytes:F0}"));
            }

            text.Append(vectors);
        }

        return text.ToString();
    }

    private string Delta(string variant, string analyzer, string baseline)
    {
        var mine = Quality.FirstOrDefault(r => r.Analyzer == analyzer && r.Variant == variant);
        var theirs = Quality.FirstOrDefault(r => r.Analyzer == baseline && r.Variant == variant);
        if (mine is null || theirs is null)
        {
            return "";
        }

        var (delta, low, high) = theirs.Scores.CompareMrr(mine.Scores);
        return Invariant($"{delta:+0.000;-0.000;0.000} [{low:+0.000;-0.000;0.000}, {high:+0.000;-0.000;0.000}]");
    }

    private static MarkdownTable Table(IEnumerable<QualityResult> results, bool withEngine)
    {
        var table = withEngine
            ? new MarkdownTable("variant", "engine", "queries", "R@1", "R@5", "R@20", "MRR@10")
            : new MarkdownTable("variant", "analyzer", "queries", "R@1", "R@5", "R@20", "MRR@10");
        foreach (var r in results)
        {
            var s = r.Scores;
            table.Row(r.Variant, withEngine ? r.Engine : r.Analyzer, Invariant($"{s.Queries}"), F3(s.R1), F3(s.R5), F3(s.R20), F3(s.Mrr10));
        }

        return table;
    }

    /// <summary>The 1/5/15-minute load averages: the machine is shared, so speed figures need this context.</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string F1(double value) => Invariant($"{value:F1}");

    private static string F2(double value) => Invariant($"{value:F2}");

    private static string F3(double value) => Invariant($"{value:F3}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
