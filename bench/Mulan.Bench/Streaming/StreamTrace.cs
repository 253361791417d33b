using System.Diagnostics;

namespace Mulan.Bench.Streaming;

/// <summary>
/// One streamed response as the client saw it: when each event arrived (the time of the socket read that
/// completed it), from the moment the request was sent. Two events in one read arrive at the same instant,
/// which is exactly how a buffering hop shows up.
/// </summary>
internal sealed class StreamTrace(long start)
{
    private readonly List<(SseEventKind Kind, long At)> _events = new(80);

    public long Start { get; } = start;

    public int Status { get; set; }

    public string? Error { get; set; }

    public IReadOnlyList<(SseEventKind Kind, long At)> Events => _events;

    public bool Done => _events.Exists(e => e.Kind == SseEventKind.Done);

    public int ContentCount => _events.Count(e => e.Kind == SseEventKind.Content);

    /// <summary>Time to the first content delta (not the role chunk), in ms; null when none arrived.</summary>
    public double? TimeToFirstTokenMs => _events.FindIndex(e => e.Kind == SseEventKind.Content) is var i and >= 0 ? Ms(Start, _events[i].At) : null;

    /// <summary>Request sent to the last event, in ms.</summary>
    public double TotalMs => _events.Count > 0 ? Ms(Start, _events[^1].At) : double.NaN;

    public void Add(SseEventKind kind, long at) => _events.Add((kind, at));

    /// <summary>All events there, ended by [DONE], no error.</summary>
    public bool IsComplete(int expectedDeltas) => Error is null && Done && ContentCount == expectedDeltas;

    /// <summary>Arrival gaps between consecutive content deltas, in ms.</summary>
    public IEnumerable<double> ContentGapsMs()
    {
        long? previous = null;
        foreach (var (kind, at) in _events)
        {
            if (kind != SseEventKind.Content)
            {
                continue;
            }

            if (previous is { } p)
            {
                yield return Ms(p, at);
            }

            previous = at;
        }
    }

    /// <summary>A short account for error messages and skipped arms.</summary>
    public string Describe(int expectedDeltas) => Error is { } e
        ? $"{e} (HTTP {Status}, {ContentCount}/{expectedDeltas} deltas)"
        : $"HTTP {Status}, {ContentCount}/{expectedDeltas} deltas, {(Done ? "[DONE]" : "no [DONE]")}";

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
