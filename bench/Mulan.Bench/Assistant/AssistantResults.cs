namespace Mulan.Bench.Assistant;

/// <summary>Sequential runs with K tool calls each: where a run's wall time goes.</summary>
/// <param name="LoopP50">(server wall − Σ step durationMs) ÷ steps, p50 over runs: an upper bound of the loop's own cost per step.</param>
/// <param name="LoopLowP50">the same with every step charged its durationMs + 1 (durations are truncated ms): a lower bound.</param>
internal sealed record LoopRow(int ToolCalls, int Steps, int Runs, int Errors, string? FirstError, double ServerP50, double ServerP95, double ClientP50, Stat Start,
    double ModelSumP50, double ToolSumP50, double LoopP50, double LoopP95, double LoopLowP50, double LoopLowP95,
    Stat FirstModel, Stat LastModel, Stat DirectFirst, Stat DirectLast, Stat ToolStep, Gateway Gateway);

/// <summary>The usage records' latencyMs (the gateway's own clock) of the first and last model steps and of the direct calls with their bodies.</summary>
internal sealed record Gateway(Stat FirstModel, Stat LastModel, Stat DirectFirst, Stat DirectLast);

/// <summary>Median and mean of one set of samples (ms); the mean shows what truncated whole-ms values hide from the median.</summary>
internal readonly record struct Stat(int Count, double Median, double Mean, double P95)
{
    public static Stat Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
        return sorted.Count == 0
            ? new Stat(0, double.NaN, double.NaN, double.NaN)
            : new Stat(sorted.Count, Stats.Percentiles.OfSorted(sorted, 0.5), sorted.Average(), Stats.Percentiles.OfSorted(sorted, 0.95));
    }
}

/// <summary>The knowledge_search tool step against the same queries sent to <c>POST /api/knowledge-bases/{id}/search</c>.</summary>
internal sealed record ToolReference(Stat ToolStep, Stat Search, int Errors, string? FirstError);

/// <summary>C runs started at once, in batches; each run with K tool calls.</summary>
internal sealed record ConcurrencyRow(int Concurrency, int Batches, int Runs, int Errors, string? FirstError, double WallSeconds, double RunsPerSecond,
    double StepsPerSecond, Stat Client, Stat Server, Stat Start, Stat LoopPerStep, double MulanCpuMsPerRun, double MulanCores, double OtherCores);

internal sealed record AssistantResults(IReadOnlyList<LoopRow> Loop, ToolReference Tool, IReadOnlyList<ConcurrencyRow> Concurrent);
