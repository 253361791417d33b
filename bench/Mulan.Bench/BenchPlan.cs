namespace Mulan.Bench;

/// <summary>
/// Sizes and durations of one run. The full plan is sized to finish in well under ten minutes on two cores;
/// the quick plan in one to two minutes, with enough samples for medians but p99s that are close to maxima.
/// </summary>
internal sealed record BenchPlan
{
    public required string Mode { get; init; }

    /// <summary>Closed-loop time (concurrency 16) for each JIT-compiled gateway (Mulan, Portkey) before anything is
    /// measured; see <see cref="Load.Warmup"/> for why it is this long.</summary>
    public required TimeSpan WarmupDuration { get; init; }

    /// <summary>The same for direct and nginx, which run after the long warm-ups.</summary>
    public required TimeSpan ShortWarmupDuration { get; init; }

    /// <summary>The warm-up's req/s is printed per window of this length.</summary>
    public TimeSpan WarmupWindow { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Sequential requests per arm after the closed loop, so the concurrency-1 path is warm too.</summary>
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

    /// <summary>Times each level is run per arm; one burst can catch a hiccup of the shared machine.</summary>
    public required int StreamLevelRounds { get; init; }

    /// <summary>Bound on any one stream or level; a profile-A stream takes about 1.3 s when nothing stalls.</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>An inter-chunk gap above this counts as a stall (the upstream's gap is 20 ms).</summary>
    public TimeSpan StallGap { get; init; } = TimeSpan.FromSeconds(1);

    public static BenchPlan Full { get; } = new()
    {
        Mode = "full",
        WarmupDuration = TimeSpan.FromSeconds(60),
        ShortWarmupDuration = TimeSpan.FromSeconds(10),
        WarmupRequests = 1000,
        LatencyRounds = 7,
        LatencyRequestsPerRound = 500,
        ThroughputRounds = 3,
        ThroughputWarmup = TimeSpan.FromSeconds(1),
        ThroughputWindow = TimeSpan.FromSeconds(3),
        ThroughputConcurrency = [16, 64],
        StreamRounds = 3,
        StreamsPerRound = 6,
        LongStreamsPerRound = 20,
        StreamLevels = [1, 8, 32, 128, 512],
        StreamLevelRounds = 3,
    };

    public static BenchPlan Quick { get; } = new()
    {
        Mode = "quick",
        WarmupDuration = TimeSpan.FromSeconds(15),
        ShortWarmupDuration = TimeSpan.FromSeconds(3),
        WarmupWindow = TimeSpan.FromSeconds(3),
        WarmupRequests = 300,
        LatencyRounds = 3,
        LatencyRequestsPerRound = 150,
        ThroughputRounds = 1,
        ThroughputWarmup = TimeSpan.FromMilliseconds(500),
        ThroughputWindow = TimeSpan.FromSeconds(2),
        ThroughputConcurrency = [16, 64],
        StreamRounds = 2,
        StreamsPerRound = 2,
        LongStreamsPerRound = 5,
        StreamLevels = [1, 8, 32, 128],
        StreamLevelRounds = 1,
    };
}
