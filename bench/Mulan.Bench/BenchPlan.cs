namespace Mulan.Bench;

/// <summary>
/// Sizes and durations of one run. The full plan is sized to finish in well under ten minutes on two cores;
/// the quick plan in one to two minutes, with enough samples for medians but p99s that are close to maxima.
/// </summary>
internal sealed record BenchPlan
{
    public required string Mode { get; init; }

    /// <summary>Sequential requests per arm before anything is measured (JIT tiering, connection pools).</summary>
    public required int WarmupRequests { get; init; }

    public required int LatencyRounds { get; init; }

    /// <summary>Sequential (concurrency 1) requests per arm in each round; arms take turns within a round.</summary>
    public required int LatencyRequestsPerRound { get; init; }

    public required int ThroughputRounds { get; init; }

    public required TimeSpan ThroughputWarmup { get; init; }

    public required TimeSpan ThroughputWindow { get; init; }

    public required IReadOnlyList<int> ThroughputConcurrency { get; init; }

    public required int StreamRounds { get; init; }

    /// <summary>Sequential profile-A streams per arm in each round.</summary>
    public required int StreamsPerRound { get; init; }

    /// <summary>Sequential profile-B (1,000 deltas) streams per arm in each round.</summary>
    public required int LongStreamsPerRound { get; init; }

    /// <summary>Concurrent profile-A streams per level.</summary>
    public required IReadOnlyList<int> StreamLevels { get; init; }

    /// <summary>Bound on any one stream or level; a profile-A stream takes about 1.3 s when nothing stalls.</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>An inter-chunk gap above this counts as a stall (the upstream's gap is 20 ms).</summary>
    public TimeSpan StallGap { get; init; } = TimeSpan.FromSeconds(1);

    public static BenchPlan Full { get; } = new()
    {
        Mode = "full",
        WarmupRequests = 2000,
        LatencyRounds = 7,
        LatencyRequestsPerRound = 500,
        ThroughputRounds = 3,
        ThroughputWarmup = TimeSpan.FromSeconds(1),
        ThroughputWindow = TimeSpan.FromSeconds(5),
        ThroughputConcurrency = [16, 64],
        StreamRounds = 3,
        StreamsPerRound = 8,
        LongStreamsPerRound = 5,
        StreamLevels = [1, 8, 32, 128, 512],
    };

    public static BenchPlan Quick { get; } = new()
    {
        Mode = "quick",
        WarmupRequests = 400,
        LatencyRounds = 3,
        LatencyRequestsPerRound = 150,
        ThroughputRounds = 1,
        ThroughputWarmup = TimeSpan.FromMilliseconds(500),
        ThroughputWindow = TimeSpan.FromSeconds(2),
        ThroughputConcurrency = [16, 64],
        StreamRounds = 2,
        StreamsPerRound = 3,
        LongStreamsPerRound = 2,
        StreamLevels = [1, 8, 32, 128],
    };
}
