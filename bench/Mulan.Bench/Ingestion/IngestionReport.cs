using System.Globalization;
using System.Runtime;
using System.Text;
using Mulan.Bench.Reporting;

namespace Mulan.Bench.Ingestion;

/// <summary>The Markdown report: corpus sizes, both pipelines stage by stage per scale, the embed sample, memory, formats.</summary>
internal sealed class IngestionReport(string[] args, string loadAtStart, string dataParent)
{
    /// <summary>The product's aim for keyword-only ingestion, in MB of text per second.</summary>
    private const double AimMegabytesPerSecond = 2;

    public List<ScaleResult> Scales { get; } = [];

    public List<FormatResult> Formats { get; } = [];

    public List<string> Notes { get; } = [];

    public StageResult? EmbedSample { get; set; }

    public int? EmbedFullScale { get; set; }

    public TimeSpan? EncoderLoad { get; set; }

    public int EncoderDimensions { get; set; }

    public bool PlaceholderEncoder { get; set; }

    public string ToMarkdown(TimeSpan elapsed, string runtime, string loadAtEnd)
    {
        var text = new StringBuilder();
        text.AppendLine("## Ingestion throughput (docs/quality.md §4)").AppendLine();
        text.AppendLine(Invariant($"Command: `dotnet run -c Release --project bench/Mulan.Bench -- {string.Join(' ', args)}`; {Environment.ProcessorCount} cores, {runtime}; {elapsed.TotalSeconds:F0} s; load average {loadAtStart} at the start, {loadAtEnd} at the end."));
        text.AppendLine();
        text.AppendLine(Invariant($"- Every stage runs the server's own code over the whole corpus before the next starts (after an unreported warm-up over one copy), with {Stage.Workers} workers (one per core, the server's default), each taking the next document and doing for it what `IngestionWorker` does. MB = 10⁶ bytes of the UTF-8 Markdown files; chunks/s counts the corpus's chunks; **cores busy** = this process's CPU time / wall time (below {Stage.Workers} means waiting: fsync, locks, or other processes on the shared machine); **other load** = CPU that other processes used meanwhile, in cores, from /proc/stat."));
        text.AppendLine("- Stages: **parse** `DocumentParsers.CreateDefault()` reading the uploaded file from the data folder; **chunk** `Chunker` (default `ChunkingOptions`, headings left out, as the worker does) and the index texts; **embed** `KnowledgeEmbedder.EmbedLocally` (the local encoder; mostly-Chinese chunks get no vector, as in the server), batches of 32 per document, one shared encoder; **claim** the queue's `ClaimNextAsync` + `FindKnowledgeBaseAsync`; **store** `SqliteKnowledgeStore.CompleteAsync` (one transaction per document, WAL, synchronous=FULL); **index** `KnowledgeIndex.AddDocument`. Uploading (saving the file, queueing the document) happens before and is not timed.");
        text.AppendLine(Invariant($"- SQLite data folders under {dataParent} ({FileSystemOf(dataParent)}), a fresh one per scale and pipeline. GC: {(GCSettings.IsServerGC ? "server" : "workstation")}, {(GCSettings.LatencyMode == GCLatencyMode.Batch ? "non-concurrent" : "concurrent")} (the server runs workstation, concurrent)."));
        foreach (var note in Notes)
        {
            text.AppendLine($"- {note}");
        }

        if (PlaceholderEncoder)
        {
            text.AppendLine("- **The local encoder returned one-hot vectors: it is a stand-in, not the real model. Every embed figure below is meaningless.**");
        }

        text.AppendLine().AppendLine("### Corpus").AppendLine();
        var corpus = new MarkdownTable("scale", "documents", "MB", "chunks", "chunks per document");
        foreach (var s in Scales)
        {
            corpus.Row(Invariant($"×{s.Scale}"), Int(s.Documents), F1(s.Bytes / 1e6), Int(s.Chunks), F1((double)s.Chunks / s.Documents));
        }

        text.Append(corpus);
        text.AppendLine().AppendLine("### Keyword-only pipeline").AppendLine();
        text.AppendLine("parse → chunk → claim → store → keyword index.").AppendLine();
        text.Append(StageTable(s => s.KeywordOnly));

        if (Scales.Any(s => s.WithEmbeddings.Count > 0))
        {
            text.AppendLine().AppendLine("### With local embeddings").AppendLine();
            text.AppendLine(EmbedFullScale is { } full
                ? Invariant($"parse → chunk → embed → claim → store with vectors → keyword + vector index, in a knowledge base whose embedding model is the local encoder. Parse, chunk and claim are the figures above (the same work). Embed is measured over the whole ×{full} corpus and *projected* (italic) for larger scales from its seconds per chunk; there, store and index run with stand-in vectors of the encoder's dimensions (storing and indexing a vector costs the same whatever its values).")
                : "parse → chunk → embed → claim → store with vectors → keyword + vector index, in a knowledge base whose embedding model is the local encoder. Parse, chunk and claim are the figures above (the same work). Embed is *projected* (italic) from the sample below at its seconds per chunk (`--embed-full` measures it over the smallest scale instead, which takes long on two cores). Store and index run at full scale: chunks outside the sample get stand-in vectors of the encoder's dimensions (storing and indexing a vector costs the same whatever its values).");
            text.AppendLine();
            text.Append(StageTable(s => s.WithEmbeddings));
        }

        if (EmbedSample is { } sample)
        {
            text.AppendLine().AppendLine("### Embed stage, measured on a sample").AppendLine();
            text.AppendLine("Whole documents spread evenly over the smallest scale's corpus (so Chinese and English in the corpus's proportions), each embedded as the worker does.").AppendLine();
            var table = new MarkdownTable("documents", "chunks", "MB", "seconds", "documents/s", "MB/s", "chunks/s", "cores busy", "other load", "encoder load s", "dimensions");
            table.Row(Int(sample.Documents), Int(sample.Chunks), F2(sample.Bytes / 1e6), F1(sample.Seconds), F1(sample.DocumentsPerSecond), F2(sample.MegabytesPerSecond),
                F1(sample.ChunksPerSecond), F2(sample.Cores), F2(sample.OtherCores), EncoderLoad is { } load ? F1(load.TotalSeconds) : "n/a", Int(EncoderDimensions));
            text.Append(table);
        }

        text.AppendLine().AppendLine("### Memory").AppendLine();
        text.AppendLine("Peak RSS is this process's VmHWM over the scale (reset before it): it includes the benchmark's own staging, every document's parse and chunk results held at once, which the server never holds. The live heap is after a full collection with only the keyword-only index kept: what a server holding this corpus keeps for search (chunk text and postings); the index columns are what dropping each index frees.").AppendLine();
        var memory = new MarkdownTable("scale", "peak RSS MB", "live heap MB", "keyword index MB", "vector index MB", "SQLite MB, keyword-only", "SQLite MB, with vectors");
        foreach (var s in Scales)
        {
            memory.Row(Invariant($"×{s.Scale}"), F0(s.PeakResidentMegabytes), F0(s.LiveHeapMegabytes), F0(s.KeywordIndexMegabytes), F0(s.VectorIndexMegabytes),
                F0(s.KeywordDatabaseMegabytes), F0(s.VectorDatabaseMegabytes));
        }

        text.Append(memory);

        if (Formats.Count > 0)
        {
            text.AppendLine().AppendLine(Invariant($"### Parse by format (median of {Formats[0].Rounds} rounds)")).AppendLine();
            text.AppendLine("The same documents written as each format (writing not timed), parsed from memory with one worker per core; a round goes over them as many times (passes) as fill about a second. Text MB is what the parser extracted; headings found / written shows whether the structure survived.").AppendLine();
            var formats = new MarkdownTable("format", "documents", "file MB", "text MB", "headings found / written", "passes", "seconds per pass", "documents/s", "file MB/s", "text MB/s", "cores busy", "other load");
            foreach (var f in Formats)
            {
                formats.Row(f.Format, Int(f.Documents), F2(f.FileBytes / 1e6), F2(f.TextBytes / 1e6), Invariant($"{f.Headings:N0} / {f.ExpectedHeadings:N0}"),
                    Int(f.Passes), F2(f.Parse.Seconds / f.Passes), F1(f.Parse.DocumentsPerSecond), F2(f.FileMegabytesPerSecond), F2(f.TextMegabytesPerSecond), F2(f.Parse.Cores), F2(f.Parse.OtherCores));
            }

            text.Append(formats);
        }

        text.AppendLine().AppendLine("### Verdict").AppendLine();
        foreach (var line in Verdict())
        {
            text.AppendLine($"- {line}");
        }

        return text.ToString();
    }

    private IEnumerable<string> Verdict()
    {
        foreach (var s in Scales)
        {
            var total = StageResult.Sum("total", s.KeywordOnly);
            var slowest = s.KeywordOnly.MaxBy(r => r.Seconds)!;
            if (s.SetupRetries > 0)
            {
                yield return Invariant($"×{s.Scale}: {s.SetupRetries:N0} storage call(s) of the untimed upload failed (SQLite busy or I/O error: the busy timeout is 5 s, so a commit stalled that long) and were retried.");
            }

            if (s.StorageRetries > 0)
            {
                yield return Invariant($"×{s.Scale}: {s.StorageRetries:N0} storage call(s) failed (SQLite busy or I/O error) and were retried after the 1 s pause `IngestionWorker` takes; the pauses are in the store and claim figures.");
            }

            yield return Invariant($"×{s.Scale} keyword-only: {total.MegabytesPerSecond:F2} MB/s of text ({total.DocumentsPerSecond:F0} documents/s), {(total.MegabytesPerSecond >= AimMegabytesPerSecond ? "meets" : "misses")} the {AimMegabytesPerSecond:F0} MB/s aim; the slowest stage is {slowest.Stage} ({slowest.Seconds / total.Seconds:P0} of the time).");
            if (s.WithEmbeddings.Count > 0)
            {
                var withEmbeddings = StageResult.Sum("total", s.WithEmbeddings);
                var embed = s.WithEmbeddings.FirstOrDefault(r => r.Stage == "embed");
                var share = embed is null ? "" : Invariant($"; embedding is {embed.Seconds / withEmbeddings.Seconds:P0} of it");
                yield return Invariant($"×{s.Scale} with local embeddings{(withEmbeddings.Projected ? " (projected)" : "")}: {withEmbeddings.MegabytesPerSecond:F3} MB/s, {withEmbeddings.Seconds / 60:F1} minutes in all{share}.");
            }
        }
    }

    private string StageTable(Func<ScaleResult, IReadOnlyList<StageResult>> stages)
    {
        var table = new MarkdownTable("scale", "stage", "seconds", "documents/s", "MB/s", "chunks/s", "cores busy", "other load");
        foreach (var s in Scales)
        {
            var rows = stages(s);
            if (rows.Count == 0)
            {
                continue;
            }

            foreach (var r in rows)
            {
                table.Row(Invariant($"×{s.Scale}"), Name(r.Stage, r.Projected), F2(r.Seconds), F1(r.DocumentsPerSecond), F2(r.MegabytesPerSecond), F0(r.ChunksPerSecond), F2(r.Cores), Other(r));
            }

            var total = StageResult.Sum("total", rows);
            table.Row(Invariant($"**×{s.Scale}**"), total.Projected ? "***total (projected)***" : "**total**", Bold(F2(total.Seconds)), Bold(F1(total.DocumentsPerSecond)),
                Bold(F2(total.MegabytesPerSecond)), Bold(F0(total.ChunksPerSecond)), Bold(F2(total.Cores)), Bold(Other(total)));
        }

        return table.ToString();
    }

    private static string Name(string stage, bool projected) => projected ? $"*{stage} (projected)*" : stage;

    private static string Other(StageResult r) => r.Projected && r.Cpu == TimeSpan.Zero ? "n/a" : F2(r.OtherCores);

    private static string Bold(string value) => value == "n/a" ? value : $"**{value}**";

    /// <summary>SQLite fsyncs every commit; tmpfs and a disk give different store figures, so the report says which.</summary>
    private static string FileSystemOf(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            var mount = File.ReadLines("/proc/mounts")
                .Select(l => l.Split(' '))
                .Where(f => f.Length > 2 && full.StartsWith(f[1], StringComparison.Ordinal))
                .OrderByDescending(f => f[1].Length)
                .FirstOrDefault();
            return mount is null ? "file system unknown" : $"{mount[2]} mounted at {mount[1]}";
        }
        catch (IOException)
        {
            return "file system unknown";
        }
    }

    private static string Int(double value) => Fmt.Int(value);

    private static string F0(double value) => double.IsNaN(value) ? "n/a" : Invariant($"{value:F0}");

    private static string F1(double value) => double.IsNaN(value) ? "n/a" : Invariant($"{value:F1}");

    private static string F2(double value) => double.IsNaN(value) ? "n/a" : Invariant($"{value:F2}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
