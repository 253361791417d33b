using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Mulan.Bench.Hosting;
using Mulan.Knowledge.Embedding.Local;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Bench.Retrieval;

/// <summary>
/// Retrieval quality (docs/quality.md §3): DRCD and XQuAD as passage retrieval, plain and hard variants (pooled,
/// converted script, cross-lingual), every keyword analyzer side by side, the local vector encoder and hybrid fusion
/// arms, Lucene.Net as a second engine; then index build speed and search
/// latency at 100,000 chunks. Prints a Markdown report. Exit codes: 0 done, 2 bad arguments or no datasets.
/// </summary>
public static class RetrievalBenchmark
{
    private const int MaxChunk = 256;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!RetrievalOptions.TryParse(args, out var options, out var error))
        {
            await System.Console.Error.WriteLineAsync(error + Environment.NewLine + RetrievalOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            System.Console.WriteLine(RetrievalOptions.Usage);
            return 0;
        }

        if (RepoLayout.Datasets(options.Datasets, options.RepoRoot, out var lookedIn) is not { } datasets)
        {
            await System.Console.Error.WriteLineAsync($"datasets not found (looked in {lookedIn}); pass --datasets DIR");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var drcd = SquadSet.Load(Path.Combine(datasets, "drcd", "DRCD_dev.json"));
        var xquadZh = SquadSet.Load(Path.Combine(datasets, "xquad", "xquad.zh.json"));
        var xquadEn = SquadSet.Load(Path.Combine(datasets, "xquad", "xquad.en.json"));
        var notes = new List<string>();
        var groups = await BuildTasksAsync(drcd, xquadZh, xquadEn, notes);

        var analyzers = BenchAnalyzers.Create(options.JiebaResources, notes)
            .Where(a => options.Analyzers is null || options.Analyzers.Contains(a.Name))
            .ToList();
        var report = new RetrievalReport(args, notes);
        foreach (var analyzer in analyzers)
        {
            Progress($"quality: {analyzer.Name}");
            Evaluate(groups, analyzer.Name, () => new KeywordEngine(analyzer), report.Quality);
        }

        var defaultAnalyzer = TextAnalyzers.Default;
        if (options.Vectors)
        {
            Progress("quality: vector arm (local encoder; embedding every passage and question once)");
            using var cache = new EmbeddingCache(LocalSentenceEncoder.Load(intraOpThreads: 1));
            var vectorName = $"vector: {cache.Model}";
            Evaluate(groups, vectorName, () => new VectorEngine(cache), report.Quality);
            notes.Add($"`{vectorName}`: the bundled all-MiniLM-L6-v2 (English-trained), exact cosine search");
            // RRF over both rankings for every query, then as the server runs it (the English-only encoder neither
            // embeds mostly-Chinese passages nor is asked about mostly-Chinese queries), with the default and a lighter
            // vector weight.
            foreach (var (weight, asServed) in new[] { (1.0, false), (1.0, true), (0.5, true) })
            {
                var name = Invariant($"hybrid{(asServed ? " as served" : ", every query")}: RRF k=60, keyword 1 : vector {weight:0.##}");
                Progress($"quality: {name}");
                Evaluate(groups, name, () => new HybridEngine(new KeywordEngine(defaultAnalyzer), new VectorEngine(cache, asServed), 60, 1, weight, asServed),
                    report.Quality);
            }
        }

        if (options.Lucene)
        {
            Progress($"quality: Lucene.Net with {defaultAnalyzer.Name}");
            Evaluate(groups, defaultAnalyzer.Name, () => new LuceneEngine(defaultAnalyzer), report.Engines);
            report.Engines.AddRange(report.Quality.Where(r => r.Analyzer == defaultAnalyzer.Name));
        }

        if (options.Chunks > 0)
        {
            var pooled = groups[^1][0];
            var corpus = SpeedRun.Replicate(pooled.Passages, options.Chunks);
            var queries = pooled.Queries.Select(q => q.Text).ToList();
            var speedAnalyzers = options.SpeedAnalyzers ?? TextAnalyzers.Names.ToHashSet(StringComparer.OrdinalIgnoreCase);
            var arms = analyzers
                .Where(a => speedAnalyzers.Contains("all") || speedAnalyzers.Contains(a.Name))
                .Select(a => new SpeedArm(a.Name, () => new KeywordEngine(a)))
                .ToList();
            if (options.Lucene)
            {
                arms.Add(new SpeedArm(defaultAnalyzer.Name, () => new LuceneEngine(defaultAnalyzer)));
            }

            Progress($"speed: {arms.Count} arms at {corpus.Count:N0} chunks, {options.Rounds} rounds");
            report.Speed.AddRange(SpeedRun.Measure(arms, corpus, queries, options.Rounds, Progress));
        }

        if (options.VectorSizes.Count > 0)
        {
            report.VectorSpeed.AddRange(VectorSpeed.Measure(options.VectorSizes, 384, 200, Progress));
        }

        report.Corpora.AddRange(groups.Select(g => (g[0].Name, g[0].Passages.Count, g.Sum(t => t.Queries.Count))));
        var markdown = report.ToMarkdown(clock.Elapsed, RuntimeInformation.FrameworkDescription, defaultAnalyzer.Name);
        System.Console.WriteLine(markdown);
        if (options.OutputPath is not null)
        {
            await File.WriteAllTextAsync(options.OutputPath, markdown, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }

        return 0;
    }

    /// <summary>The variants, grouped by corpus so that each index is built once per analyzer.</summary>
    private static async Task<List<List<RetrievalTask>>> BuildTasksAsync(
        IReadOnlyList<SquadParagraph> drcd, IReadOnlyList<SquadParagraph> xquadZh, IReadOnlyList<SquadParagraph> xquadEn, List<string> notes)
    {
        var drcdTask = RetrievalTasks.Paragraphs("DRCD dev (Traditional)", drcd);
        var zhTask = RetrievalTasks.Paragraphs("XQuAD zh (Simplified)", xquadZh);
        var enTask = RetrievalTasks.Paragraphs("XQuAD en", xquadEn);
        var pooledTask = RetrievalTasks.Pooled($"pooled, chunks ≤{MaxChunk} chars", [.. drcd, .. xquadZh, .. xquadEn], MaxChunk);

        async Task<RetrievalTask> Convert(RetrievalTask task, string name, string config, Func<string, string> fallback)
        {
            var (texts, converter) = await ScriptConversion.ConvertAsync([.. task.Queries.Select(q => q.Text)], config, fallback);
            notes.Add($"{name}: questions converted with {converter}");
            return task.WithQueries(name, texts);
        }

        return
        [
            [drcdTask, await Convert(drcdTask, "DRCD, Simplified questions", "t2s.json", ChineseScript.ToSimplified)],
            [
                zhTask,
                await Convert(zhTask, "XQuAD zh, Traditional questions", "s2t.json", ChineseScript.ToTraditional),
                await Convert(zhTask, "XQuAD zh, Taiwan-phrase questions", "s2twp.json", ChineseScript.ToTraditional),
            ],
            xquadZh.Sum(p => p.Questions.Count) == enTask.Queries.Count
                ? [enTask, enTask.WithQueries("cross-lingual: XQuAD zh questions, en paragraphs", [.. xquadZh.SelectMany(p => p.Questions).Select(q => q.Text)])]
                : [enTask],
            [pooledTask, await Convert(pooledTask, $"pooled ≤{MaxChunk}, Simplified questions", "t2s.json", ChineseScript.ToSimplified)],
        ];
    }

    private static void Evaluate(
        List<List<RetrievalTask>> groups, string analyzer, Func<IRetrievalEngine> create, List<QualityResult> results)
    {
        foreach (var group in groups)
        {
            using var engine = create();
            Parallel.ForEach(group[0].Passages, p => engine.Add(p.Id, p.Text));
            engine.Commit();
            foreach (var task in group)
            {
                results.Add(new QualityResult(task.Name, analyzer, engine.Name, RetrievalScores.Evaluate(task, engine.Search)));
            }
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static void Progress(string message) =>
        System.Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[retrieval] {message}"));
}
