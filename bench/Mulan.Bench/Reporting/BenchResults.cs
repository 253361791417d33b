using Mulan.Bench.Latency;
using Mulan.Bench.Streaming;
using Mulan.Bench.Throughput;

namespace Mulan.Bench.Reporting;

/// <summary>Everything one run measured; streaming parts are null when no arm but direct could stream.</summary>
internal sealed record BenchResults(
    LatencyResult Latency,
    ThroughputResult Throughput,
    StreamProfileResult StreamA,
    StreamProfileResult StreamB,
    ConcurrentStreamsResult Concurrent);
