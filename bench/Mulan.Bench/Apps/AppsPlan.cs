namespace Mulan.Bench.Apps;

/// <summary>Sizes and durations of one apps run; the full plan takes about five minutes on two cores, the quick one about two.</summary>
internal sealed record AppsPlan
{
    public required string Mode { get; init; }

    /// <summary>Copies of the pooled corpus (about 2,050 chunks each) in the knowledge base; 5 gives just over 10,000 chunks.</summary>
    public int Replicas { get; init; } = 5;

    /// <summary>Questions drawn from the datasets; every arm walks through the same ones.</summary>
    public int Questions { get; init; } = 3000;

    /// <summary>Closed loop (concurrency 16, app and route alternating) per Mulan before anything is measured: the JIT's tiers.</summary>
    public required TimeSpan Warmup { get; init; }

    public required int LatencyRounds { get; init; }

    public required int LatencyRequestsPerRound { get; init; }

    public required int StreamsPerRound { get; init; }

    public required int ThroughputRounds { get; init; }

    public required TimeSpan ThroughputWarmup { get; init; }

    public required TimeSpan ThroughputWindow { get; init; }

    /// <summary>Levels of the closed loop; 1 shows what one client alone gets, beside what concurrency adds (or costs).</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 8, 32, 64];

    /// <summary>How long perf samples Mulan under load with <c>--profile</c>.</summary>
    public TimeSpan ProfileWindow { get; init; } = TimeSpan.FromSeconds(8);

    public static AppsPlan Full { get; } = new()
    {
        Mode = "full",
        Warmup = TimeSpan.FromSeconds(30),
        LatencyRounds = 5,
        LatencyRequestsPerRound = 100,
        StreamsPerRound = 20,
        ThroughputRounds = 2,
        ThroughputWarmup = TimeSpan.FromSeconds(1),
        ThroughputWindow = TimeSpan.FromSeconds(3),
    };

    public static AppsPlan Quick { get; } = new()
    {
        Mode = "quick",
        Warmup = TimeSpan.FromSeconds(8),
        LatencyRounds = 3,
        LatencyRequestsPerRound = 40,
        StreamsPerRound = 8,
        ThroughputRounds = 1,
        ThroughputWarmup = TimeSpan.FromMilliseconds(500),
        ThroughputWindow = TimeSpan.FromSeconds(2),
    };
}
