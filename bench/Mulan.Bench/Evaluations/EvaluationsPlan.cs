namespace Mulan.Bench.Evaluations;

/// <summary>Sizes of one evaluations run: the evaluation part counts runs, the pilot part usage records and report rounds.</summary>
internal sealed record EvaluationsPlan
{
    public required string Mode { get; init; }

    /// <summary>Items of the evaluation set (real dataset questions, the first gold answer as the expected fact).</summary>
    public int Items { get; init; } = 200;

    /// <summary>Concurrency of the runs (the API allows 1–16) and of the direct reference calls.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 4, 16];

    /// <summary>Unmeasured rounds (every concurrency, both arms) before the measured ones: the JIT's tiers.</summary>
    public required int WarmupRounds { get; init; }

    /// <summary>Measured rounds; in each, every concurrency once per arm, the order rotated and the arms alternated.</summary>
    public required int Rounds { get; init; }

    /// <summary>Usage records in the pilot's ledger at each step; the report is timed at each.</summary>
    public IReadOnlyList<int> Records { get; init; } = [1_000, 10_000, 100_000];

    /// <summary>Concurrent chat completions that make the pilot's records.</summary>
    public int SeedConcurrency { get; init; } = 32;

    /// <summary>Rounds of report timing at each step; a round asks the ledger and each format once, order rotated.</summary>
    public required int ReportRounds { get; init; }

    public static EvaluationsPlan Full { get; } = new() { Mode = "full", WarmupRounds = 2, Rounds = 7, ReportRounds = 30 };

    public static EvaluationsPlan Quick { get; } = new() { Mode = "quick", WarmupRounds = 1, Rounds = 3, ReportRounds = 12 };
}
