using System.Text.Json.Nodes;

namespace Mulan.Bench.Assistant;

/// <summary>One step of a run as <c>GET /api/runs/{id}</c> shows it.</summary>
/// <param name="At">when the step was stored (after its call returned), whole Unix milliseconds.</param>
/// <param name="RequestId">a model step's gateway request, whose usage record has the gateway's own (fractional) latency.</param>
internal sealed record StepTrace(int Seq, string Kind, string Name, string Status, long DurationMs, DateTimeOffset At, string? RequestId, JsonNode? Input,
    JsonNode? Output);

/// <summary>
/// A finished run as the API reports it, with the client's own time from the POST to <c>event: done</c>. The split
/// into model, tool and loop time is the server's: each step's <c>durationMs</c> and the run's createdAt → endedAt.
/// </summary>
internal sealed record RunTrace(string Id, string Status, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt, IReadOnlyList<StepTrace> Steps,
    double ClientMs)
{
    /// <summary>createdAt → endedAt: both stored as whole Unix milliseconds, so ±1 ms.</summary>
    public double ServerMs => EndedAt is { } end ? (end - CreatedAt).TotalMilliseconds : double.NaN;

    public double ModelMs => Steps.Where(s => s.Kind == "model").Sum(s => (double)s.DurationMs);

    public double ToolMs => Steps.Where(s => s.Kind == "tool").Sum(s => (double)s.DurationMs);

    /// <summary>Wall time neither a model call nor a tool call accounts for, per step: the loop's own bookkeeping.</summary>
    public double LoopMsPerStep => (ServerMs - ModelMs - ToolMs) / Steps.Count;

    /// <summary>
    /// The same if every step had really taken its <c>durationMs</c> + 1: step durations are whole milliseconds,
    /// truncated, so this bounds the loop's share from below as <see cref="LoopMsPerStep"/> bounds it from above.
    /// </summary>
    public double LoopMsPerStepLow => (ServerMs - ModelMs - ToolMs - Steps.Count) / Steps.Count;

    /// <summary>
    /// From the run's creation to the start of its first model call: the slot wait (<c>Assistant:MaxConcurrentRuns</c>)
    /// and the loop's start (reading the run, its state, the app version, the tools).
    /// </summary>
    public double StartMs => Steps.Count > 0 ? (Steps[0].At - CreatedAt).TotalMilliseconds - Steps[0].DurationMs : double.NaN;

    /// <summary>Null when the run did what K tool calls must make it do: succeeded, model, K ok tool steps, model.</summary>
    public string? Verify(int toolCalls)
    {
        var shape = string.Join(",", Steps.Select(s => $"{s.Kind}:{s.Status}"));
        var expected = string.Join(",", new[] { "model:ok" }.Concat(Enumerable.Repeat("tool:ok", toolCalls)).Append("model:ok"));
        if (Status != "succeeded")
        {
            return $"run {Id} {Status}: {Error} [{shape}]";
        }

        return shape == expected ? null : $"run {Id} made [{shape}], not [{expected}]";
    }

    public static RunTrace Parse(JsonObject run, double clientMs) => new(
        run["id"]!.GetValue<string>(),
        run["status"]!.GetValue<string>(),
        run["error"]?.GetValue<string>(),
        run["createdAt"]!.GetValue<DateTimeOffset>(),
        run["endedAt"]?.GetValue<DateTimeOffset>(),
        [.. (run["steps"]?.AsArray() ?? []).Select(s => new StepTrace(
            s!["seq"]!.GetValue<int>(), s["kind"]!.GetValue<string>(), s["name"]?.GetValue<string>() ?? "", s["status"]!.GetValue<string>(),
            s["durationMs"]!.GetValue<long>(), s["at"]!.GetValue<DateTimeOffset>(), s["requestId"]?.GetValue<string>(), s["input"]?.DeepClone(), s["output"]?.DeepClone()))],
        clientMs);
}
