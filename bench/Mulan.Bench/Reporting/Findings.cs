using System.Globalization;
using Mulan.Bench.Arms;
using Mulan.Bench.Streaming;

namespace Mulan.Bench.Reporting;

/// <summary>
/// Plain-language verdicts per gateway from the figures: the failure patterns quality.md names (buffering,
/// merged or lost chunks, a ~40 ms Nagle/delayed-ACK signature, stalls), each judged against direct measured
/// in the same run so that the load generator's own jitter is not blamed on a gateway.
/// </summary>
internal static class Findings
{
    private const double NagleMs = 30;

    public static string Render(BenchResults r, IReadOnlyList<ArmKind> arms)
    {
        var lines = new List<string>();
        foreach (var arm in arms.Where(a => a != ArmKind.Direct))
        {
            var notes = new List<string>();
            NonStreaming(r, arm, notes);
            if (r.StreamA.Has(arm))
            {
                StreamA(r.StreamA, arm, notes);
            }

            if (r.StreamB.Has(arm) && r.StreamB.Complete(arm) < r.StreamB.Streams(arm))
            {
                notes.Add($"profile B: {r.StreamB.Streams(arm) - r.StreamB.Complete(arm)} of {r.StreamB.Streams(arm)} streams incomplete ({r.StreamB.FirstError(arm)})");
            }

            if (r.Concurrent.Has(arm))
            {
                Concurrent(r.Concurrent, arm, notes);
            }

            var verdict = notes.Count == 0
                ? $"no merged or lost deltas beyond direct's, no Nagle-sized delay, no stall up to {r.Concurrent.Levels.DefaultIfEmpty(0).Max()} concurrent streams"
                : string.Join("; ", notes);
            lines.Add($"- **{arm.Name()}**: {verdict}.");
        }

        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }

    private static void NonStreaming(BenchResults r, ArmKind arm, List<string> notes)
    {
        var added = r.Latency.AddedP50(arm);
        if (added >= NagleMs)
        {
            notes.Add($"non-streaming requests take {Fmt.Ms(added)} ms longer at p50 — the size of a Nagle/delayed-ACK stall (~40 ms)");
        }

        var errors = r.Latency.Errors(arm) + r.Throughput.Concurrency.Sum(c => r.Throughput.Errors(arm, c));
        if (errors > 0)
        {
            notes.Add($"{errors} failed non-streaming requests (first: {r.Latency.FirstError(arm) ?? r.Throughput.Concurrency.Select(c => r.Throughput.FirstError(arm, c)).FirstOrDefault(e => e is not null)})");
        }
    }

    private static void StreamA(StreamProfileResult a, ArmKind arm, List<string> notes)
    {
        var gaps = Math.Max(1, a.GapCount(arm));
        var merged = Excess(a.Merged(arm), a.Merged(ArmKind.Direct), gaps);
        var slow = Excess(a.SlowGaps(arm), a.SlowGaps(ArmKind.Direct), gaps);
        if (merged && slow)
        {
            notes.Add($"holds deltas back: {a.Merged(arm)} of {gaps} gaps under {StreamProfileResult.MergedBelowMs:0} ms and {a.SlowGaps(arm)} at or over {StreamProfileResult.SlowGapFromMs:0} ms "
                + $"(direct: {a.Merged(ArmKind.Direct)} and {a.SlowGaps(ArmKind.Direct)}) — the pattern of a buffering hop or a Nagle/delayed-ACK stall");
        }
        else if (merged)
        {
            notes.Add($"merges deltas: {a.Merged(arm)} of {gaps} gaps under {StreamProfileResult.MergedBelowMs:0} ms (direct: {a.Merged(ArmKind.Direct)})");
        }
        else if (slow)
        {
            notes.Add($"{a.SlowGaps(arm)} of {gaps} gaps at or over {StreamProfileResult.SlowGapFromMs:0} ms (direct: {a.SlowGaps(ArmKind.Direct)})");
        }

        if (a.Lost(arm) > 0)
        {
            notes.Add($"lost {a.Lost(arm)} deltas ({a.FirstError(arm)})");
        }

        var ttft = a.AddedTtftP50(arm);
        if (ttft >= NagleMs)
        {
            notes.Add($"adds {Fmt.Ms(ttft)} ms to time-to-first-token at p50 — a Nagle/delayed-ACK-sized delay");
        }
        else if (ttft >= 5)
        {
            notes.Add($"adds {Fmt.Ms(ttft)} ms to time-to-first-token at p50");
        }
    }

    private static void Concurrent(ConcurrentStreamsResult c, ArmKind arm, List<string> notes)
    {
        var merging = new List<string>();
        foreach (var level in c.Levels)
        {
            if (c.At(arm, level) is not { } s || c.At(ArmKind.Direct, level) is not { } direct)
            {
                continue;
            }

            if (s.Stalled > 0)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Stalled} of {s.Started} streams stalled or failed at {level} concurrent (direct: {direct.Stalled}; max gap {Fmt.Ms(s.MaxGap)} ms; {s.FirstError ?? "all completed"})"));
            }

            // Under load some catch-up is normal; a share several times direct's means deltas wait in the gateway.
            var share = Share(s.Merged, s.GapCount);
            var directShare = Share(direct.Merged, direct.GapCount);
            if (share > 0.05 && share > 5 * directShare)
            {
                merging.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{Fmt.Pct(share)} at {level} (direct {Fmt.Pct(directShare)}; gap p99 {Fmt.Ms(s.GapP99)} vs {Fmt.Ms(direct.GapP99)} ms; other load {Fmt.Cores(s.OtherCores)} cores)"));
            }
        }

        if (merging.Count > 0)
        {
            notes.Add("under concurrent streams, deltas arrive merged: " + string.Join(", ", merging));
        }
    }

    private static double Share(int part, int total) => total > 0 ? (double)part / total : 0;

    /// <summary>More than 1% of gaps, and clearly more than direct had (the load generator's own jitter).</summary>
    private static bool Excess(int count, int direct, int total) => count > total / 100 && count > 2 * direct + 2;
}
