using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Mulan.Bench.Hosting;
using Mulan.Knowledge.Embedding.Local;

namespace Mulan.Bench.Ingestion;

/// <summary>
/// Ingestion throughput (docs/quality.md §4): the pooled DRCD + XQuAD corpus as Markdown documents, replicated, through
/// the server's own parse, chunk, embed, store and index code, stage by stage; peak memory per scale; and the parse
/// stage on PDF, DOCX, HTML and Markdown. Prints a Markdown report. Exit codes: 0 done, 2 bad arguments or no datasets.
/// </summary>
public static class IngestionBenchmark
{
    private const int WarmUpPasses = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!IngestionOptions.TryParse(args, out var options, out var error))
        {
            await System.Console.Error.WriteLineAsync(error + Environment.NewLine + IngestionOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            System.Console.WriteLine(IngestionOptions.Usage);
            return 0;
        }

        if (RepoLayout.Datasets(options.Datasets, options.RepoRoot, out var lookedIn) is not { } datasets)
        {
            await System.Console.Error.WriteLineAsync($"datasets not found (looked in {lookedIn}); pass --datasets DIR");
            return 2;
        }

        var dataParent = options.DataParent ?? Path.GetTempPath();
        if (!Directory.Exists(dataParent))
        {
            await System.Console.Error.WriteLineAsync($"--data {dataParent}: no such folder");
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        System.Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var clock = Stopwatch.StartNew();
        var progress = new Progress();
        var report = new IngestionReport(args, ReadLoadAverage(), dataParent);
        var corpus = IngestionCorpus.Load(datasets);
        report.Notes.Add(Invariant($"Corpus: {corpus.Describe()} (contexts only), {IngestionCorpus.ParagraphsPerDocument} consecutive paragraphs of one dataset per Markdown document ({corpus.DocumentsPerReplica} documents per copy), each paragraph under a level-2 heading with its article title; the copy number is in every title"));

        LocalSentenceEncoder? encoder = null;
        try
        {
            if (options.Embed)
            {
                progress.Say("loading the local encoder");
                var load = Stopwatch.StartNew();
                encoder = LocalSentenceEncoder.Load(intraOpThreads: new Mulan.Knowledge.KnowledgeOptions().LocalEncoderThreads);
                report.EncoderLoad = load.Elapsed;
                report.EncoderDimensions = encoder.Dimensions;
            }

            var run = new ScaleRun(corpus, dataParent, encoder, progress);

            // The first figures would otherwise include compiling every stage's code and the encoder's first batch:
            // one unreported pass over one copy of the corpus through every stage, then more of the CPU-bound ones.
            // Measured: with the single pass alone, parse and chunk at the first scale ran at a third of their speed
            // at the next, still on partly unoptimized code.
            progress.Say("warm-up: ×1 through every stage, then parse, chunk and index again (not reported)");
            encoder?.Embed([.. corpus.Documents(1)[0].Sections.Take(new Mulan.Knowledge.KnowledgeOptions().EmbeddingBatchSize).Select(s => s.Text)]);
            await run.RunAsync(1, EmbedMode.None, 0, cancel.Token);
            await run.WarmUpAsync(WarmUpPasses, cancel.Token);

            foreach (var scale in options.Scales)
            {
                cancel.Token.ThrowIfCancellationRequested();
                var mode = encoder is null ? EmbedMode.None
                    : scale != options.Scales[0] ? EmbedMode.None
                    : options.EmbedFull ? EmbedMode.Full : EmbedMode.Sample;
                var result = await run.RunAsync(scale, mode, options.EmbedSample, cancel.Token);
                report.Scales.Add(result);
                if (mode == EmbedMode.Sample)
                {
                    report.EmbedSample = run.EmbedRate;
                }

                progress.Say(Invariant($"×{scale}: done; peak RSS {result.PeakResidentMegabytes:F0} MB"));
            }

            report.PlaceholderEncoder = encoder is not null && run.PlaceholderEncoder;
            report.EmbedFullScale = options.EmbedFull ? options.Scales[0] : null;
            encoder?.Dispose();
            encoder = null;

            if (options.FormatsDocuments > 0)
            {
                var formats = new FormatRun(progress);
                report.Formats.AddRange(await formats.RunAsync(corpus, options.FormatsDocuments, cancel.Token));
                report.Notes.AddRange(formats.Notes);
            }
        }
        catch (OperationCanceledException)
        {
            await System.Console.Error.WriteLineAsync("interrupted");
            return 130;
        }
        finally
        {
            encoder?.Dispose();
        }

        var markdown = report.ToMarkdown(clock.Elapsed, RuntimeInformation.FrameworkDescription, ReadLoadAverage());
        System.Console.WriteLine(markdown);
        if (options.OutputPath is not null)
        {
            await File.WriteAllTextAsync(options.OutputPath, markdown, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }

        return 0;
    }

    /// <summary>The 1/5/15-minute load averages: the machine is shared, so speed figures need this context.</summary>
    private static string ReadLoadAverage()
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

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
