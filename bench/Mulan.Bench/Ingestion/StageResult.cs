namespace Mulan.Bench.Ingestion;

/// <summary>
/// One stage over one corpus: how much went through it and how long it took. <see cref="Cpu"/> is this process's
/// CPU time over the stage, so <see cref="Cores"/> tells a stage that kept every core busy from one that waited
/// (on fsync, on a lock); <see cref="OtherCores"/> is the CPU other processes took meanwhile (the machine is shared).
/// </summary>
internal sealed record StageResult(
    string Stage, int Documents, long Bytes, int Chunks, TimeSpan Wall, TimeSpan Cpu, double OtherCores = double.NaN, bool Projected = false)
{
    public double Seconds => Wall.TotalSeconds;

    public double DocumentsPerSecond => Documents / Seconds;

    public double MegabytesPerSecond => Bytes / 1e6 / Seconds;

    public double ChunksPerSecond => Chunks / Seconds;

    public double Cores => Projected ? double.NaN : Cpu.TotalSeconds / Seconds;

    /// <summary>The same stage's time for a corpus of <paramref name="chunks"/> chunks at this one's rate per chunk.</summary>
    public StageResult ProjectTo(string stage, int documents, long bytes, int chunks) =>
        new(stage, documents, bytes, chunks, Wall * ((double)chunks / Chunks), TimeSpan.Zero, OtherCores, Projected: true);

    /// <summary>Several stages run one after the other, as one.</summary>
    public static StageResult Sum(string stage, IReadOnlyList<StageResult> parts) => new(
        stage, parts.Max(p => p.Documents), parts.Max(p => p.Bytes), parts.Max(p => p.Chunks),
        TimeSpan.FromTicks(parts.Sum(p => p.Wall.Ticks)), TimeSpan.FromTicks(parts.Sum(p => p.Cpu.Ticks)),
        parts.Where(p => !p.Projected).Sum(p => p.OtherCores * p.Seconds) / parts.Where(p => !p.Projected).Sum(p => p.Seconds),
        parts.Any(p => p.Projected));
}
