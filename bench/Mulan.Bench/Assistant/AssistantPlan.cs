namespace Mulan.Bench.Assistant;

/// <summary>Sizes of one assistant run. Runs are short (a few ms of model and tool time each), so counts, not windows.</summary>
internal sealed record AssistantPlan
{
    public required string Mode { get; init; }

    /// <summary>Copies of the pooled corpus (about 2,050 chunks each) in the knowledge base the tool searches.</summary>
    public required int Replicas { get; init; }

    /// <summary>Tool calls the first model turn asks for; a run is then K + 2 steps (model, K tools, model).</summary>
    public IReadOnlyList<int> ToolCalls { get; init; } = [1, 4, 16];

    /// <summary>Unmeasured runs (K = 4, one at a time and 8 at once) and reference calls before anything is measured: the JIT's tiers.</summary>
    public required int WarmupRuns { get; init; }

    /// <summary>Rounds of the sequential part; in each, every K gets <see cref="RunsPerRound"/> runs, K order rotated.</summary>
    public required int Rounds { get; init; }

    public required int RunsPerRound { get; init; }

    /// <summary>Knowledge-base searches per round, with queries the round's tool steps ran.</summary>
    public required int ReferenceCallsPerRound { get; init; }

    /// <summary>K of the concurrent part.</summary>
    public int ConcurrentToolCalls { get; init; } = 4;

    /// <summary>Runs started at once, and how many such batches at each level.</summary>
    public required IReadOnlyList<(int Concurrency, int Batches)> Concurrency { get; init; }

    public static AssistantPlan Full { get; } = new()
    {
        Mode = "full",
        Replicas = 5,
        WarmupRuns = 60,
        Rounds = 5,
        RunsPerRound = 20,
        ReferenceCallsPerRound = 40,
        Concurrency = [(1, 40), (8, 10), (32, 5)],
    };

    public static AssistantPlan Quick { get; } = new()
    {
        Mode = "quick",
        Replicas = 1,
        WarmupRuns = 30,
        Rounds = 3,
        RunsPerRound = 10,
        ReferenceCallsPerRound = 20,
        Concurrency = [(1, 15), (8, 4), (32, 2)],
    };
}
