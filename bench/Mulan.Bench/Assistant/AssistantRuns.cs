using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Assistant;

/// <summary>The measured parts of the assistant mode: sequential runs per K with their references, then concurrent runs.</summary>
internal sealed class AssistantRuns(RunClient client, AssistantServer server, AssistantQueries queries, AssistantPlan plan, Progress progress)
{
    // The tool as RunTools offers it to the model, so a direct call carries the same request as the run's model step.
    private static readonly JsonArray Tools = [Mulan.Assistant.Runs.RunTools.Function(Mulan.Assistant.Runs.RunTools.KnowledgeSpec())];

    private int _nonce;

    /// <summary>Batches of 8 runs at once in the warm-up: about as many runs as the sequential warm-up.</summary>
    public static int WarmupBatches(AssistantPlan plan) => (plan.WarmupRuns + 7) / 8;

    public async Task WarmUpAsync(CancellationToken ct)
    {
        foreach (var k in plan.ToolCalls)
        {
            var trace = await OneAsync(k, ct);
            if (trace.Verify(k) is { } wrong)
            {
                throw new BenchException($"the assistant does not run as expected: {wrong}");
            }

            await DirectAsync(k, [DirectBodies(trace)], ct);
        }

        progress.Say($"warm-up: {plan.WarmupRuns} runs (K = {plan.ConcurrentToolCalls}) one at a time, then 8 at once, and the reference calls");
        for (var i = 0; i < plan.WarmupRuns; i++)
        {
            await OneAsync(plan.ConcurrentToolCalls, ct);
        }

        for (var i = 0; i < WarmupBatches(plan); i++)
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => OneAsync(plan.ConcurrentToolCalls, ct)));
        }

        await SearchAsync(queries.Take(plan.ReferenceCallsPerRound), ct);
    }

    /// <summary>
    /// Runs one at a time, K order rotated per round; after each round, every run's first and last model call sent again
    /// directly (paired: the same prompt, so the same vendor work), and searches with the round's tool queries.
    /// </summary>
    public async Task<(IReadOnlyList<LoopRow> Rows, ToolReference Tool)> SequentialAsync(CancellationToken ct)
    {
        var traces = plan.ToolCalls.ToDictionary(k => k, _ => new List<RunTrace>());
        var errors = plan.ToolCalls.ToDictionary(k => k, _ => new List<string>());
        var directFirst = plan.ToolCalls.ToDictionary(k => k, _ => new List<(double Ms, string? RequestId)>());
        var directLast = plan.ToolCalls.ToDictionary(k => k, _ => new List<(double Ms, string? RequestId)>());
        var toolSteps = new List<double>();
        var searches = new List<double>();
        var referenceErrors = new List<string>();
        for (var round = 0; round < plan.Rounds; round++)
        {
            progress.Say($"sequential round {round + 1}/{plan.Rounds}: {plan.RunsPerRound} runs per K ({string.Join(", ", plan.ToolCalls)}), then the references");
            var roundQueries = new List<string>();
            var bodies = plan.ToolCalls.ToDictionary(k => k, _ => new List<(JsonObject First, JsonObject? Last)>());
            foreach (var k in Rotation.Of(plan.ToolCalls, round))
            {
                for (var i = 0; i < plan.RunsPerRound; i++)
                {
                    var trace = await OneAsync(k, ct);
                    if (trace.Verify(k) is { } wrong)
                    {
                        errors[k].Add(wrong);
                        continue;
                    }

                    traces[k].Add(trace);
                    bodies[k].Add(DirectBodies(trace));
                    foreach (var step in trace.Steps.Where(s => s.Kind == "tool"))
                    {
                        toolSteps.Add(step.DurationMs);
                        roundQueries.Add(step.Input!["query"]!.GetValue<string>());
                    }
                }
            }

            foreach (var k in Rotation.Of(plan.ToolCalls, round))
            {
                var (first, last, failed) = await DirectAsync(k, bodies[k], ct);
                directFirst[k].AddRange(first);
                directLast[k].AddRange(last);
                referenceErrors.AddRange(failed);
            }

            // The same queries the tool steps ran, spread over the round's runs of every K.
            var every = Math.Max(1, roundQueries.Count / plan.ReferenceCallsPerRound);
            var (ms, searchErrors) = await SearchAsync([.. roundQueries.Where((_, i) => i % every == 0).Take(plan.ReferenceCallsPerRound)], ct);
            searches.AddRange(ms);
            referenceErrors.AddRange(searchErrors);
        }

        var gateway = await client.UsageLatenciesAsync(ct);
        Stat Latency(IEnumerable<string?> ids) => Stat.Of(ids.Select(id => id is not null && gateway.TryGetValue(id, out var ms) ? ms : double.NaN));
        var rows = plan.ToolCalls.Select(k =>
        {
            var runs = traces[k];
            var loop = Stat.Of(runs.Select(r => r.LoopMsPerStep));
            var low = Stat.Of(runs.Select(r => r.LoopMsPerStepLow));
            var serverWall = Stat.Of(runs.Select(r => r.ServerMs));
            return new LoopRow(k, k + 2, runs.Count, errors[k].Count, errors[k].FirstOrDefault(), serverWall.Median, serverWall.P95,
                Stat.Of(runs.Select(r => r.ClientMs)).Median, Stat.Of(runs.Select(r => r.StartMs)), Stat.Of(runs.Select(r => r.ModelMs)).Median,
                Stat.Of(runs.Select(r => r.ToolMs)).Median,
                loop.Median, loop.P95, low.Median, low.P95,
                Stat.Of(runs.Select(r => (double)r.Steps[0].DurationMs)), Stat.Of(runs.Select(r => (double)r.Steps[^1].DurationMs)),
                Stat.Of(directFirst[k].Select(d => d.Ms)), Stat.Of(directLast[k].Select(d => d.Ms)),
                Stat.Of(runs.SelectMany(r => r.Steps.Where(s => s.Kind == "tool").Select(s => (double)s.DurationMs))),
                new Gateway(Latency(runs.Select(r => r.Steps[0].RequestId)), Latency(runs.Select(r => r.Steps[^1].RequestId)),
                    Latency(directFirst[k].Select(d => d.RequestId)), Latency(directLast[k].Select(d => d.RequestId))));
        }).ToList();
        return (rows, new ToolReference(Stat.Of(toolSteps), Stat.Of(searches), referenceErrors.Count, referenceErrors.FirstOrDefault()));
    }

    /// <summary>
    /// C runs started at once and followed to the end, batch after batch; Mulan's CPU time is read around the batches
    /// (the POSTs, the event streams and the runs themselves; the trace reads come after).
    /// </summary>
    public async Task<IReadOnlyList<ConcurrencyRow>> ConcurrentAsync(CancellationToken ct)
    {
        var rows = new List<ConcurrencyRow>();
        var k = plan.ConcurrentToolCalls;
        foreach (var (c, batches) in plan.Concurrency)
        {
            progress.Say($"concurrency {c}: {batches} batches of {c} runs started at once (K = {k})");
            var finished = new List<(string Id, double Ms)>();
            var failures = new List<string>();
            var cpu = server.Process.HasExited ? null : ProcessCpu.Sample(server.Process.Pid);
            var machine = LoadMeter.Start();
            var wall = 0.0;
            for (var b = 0; b < batches; b++)
            {
                var started = Stopwatch.GetTimestamp();
                var batch = await Task.WhenAll(Enumerable.Range(0, c).Select(async _ =>
                {
                    try
                    {
                        return (Run: await client.RunAsync(AssistantQueries.Input(queries.Take(k)), ct), Error: (string?)null);
                    }
                    catch (Exception e) when (e is BenchException or HttpRequestException)
                    {
                        return (Run: (Id: "", ClientMs: double.NaN), Error: e.Message);
                    }
                }));
                wall += Stopwatch.GetElapsedTime(started).TotalSeconds;
                finished.AddRange(batch.Where(r => r.Error is null).Select(r => r.Run));
                failures.AddRange(batch.Where(r => r.Error is not null).Select(r => r.Error!));
            }

            var cpuSeconds = cpu is not null && !server.Process.HasExited ? ProcessCpu.Sample(server.Process.Pid).SecondsSince(cpu) : double.NaN;
            var other = machine.Read().OtherCores;
            var traces = new List<RunTrace>();
            foreach (var (id, ms) in finished)
            {
                var trace = await client.TraceAsync(id, ms, ct);
                if (trace.Verify(k) is { } wrong)
                {
                    failures.Add(wrong);
                }
                else
                {
                    traces.Add(trace);
                }
            }

            var runs = c * batches;
            rows.Add(new ConcurrencyRow(c, batches, traces.Count, failures.Count, failures.FirstOrDefault(), wall, traces.Count / wall,
                traces.Sum(t => t.Steps.Count) / wall, Stat.Of(traces.Select(t => t.ClientMs)), Stat.Of(traces.Select(t => t.ServerMs)),
                Stat.Of(traces.Select(t => t.StartMs)), Stat.Of(traces.Select(t => t.LoopMsPerStep)), cpuSeconds * 1000 / runs, cpuSeconds / wall, other));
        }

        return rows;
    }

    private async Task<RunTrace> OneAsync(int toolCalls, CancellationToken ct)
    {
        var (id, ms) = await client.RunAsync(AssistantQueries.Input(queries.Take(toolCalls)), ct);
        return await client.TraceAsync(id, ms, ct);
    }

    /// <summary>
    /// The first model call's body is the system and user messages the run showed it; the last's adds the model's
    /// tool calls and every tool result, as the run sent them (tool outputs are stored whole up to 16,000 characters).
    /// </summary>
    private static (JsonObject First, JsonObject? Last) DirectBodies(RunTrace trace)
    {
        var opening = trace.Steps[0].Input as JsonArray ?? throw new BenchException($"run {trace.Id}: the first model step's input is not a message list");
        JsonObject Body(JsonArray messages) => new()
        {
            ["model"] = AssistantServer.Route, ["messages"] = messages, ["temperature"] = 0, ["tools"] = Tools.DeepClone(), ["tool_choice"] = "auto",
        };

        var first = Body((JsonArray)opening.DeepClone());
        if (trace.Steps[0].Output is not JsonArray calls)
        {
            return (first, null);
        }

        var messages = (JsonArray)opening.DeepClone();
        messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = calls.DeepClone() });
        var tools = trace.Steps.Where(s => s.Kind == "tool").ToList();
        for (var i = 0; i < tools.Count; i++)
        {
            if (tools[i].Output is not JsonValue output || !output.TryGetValue<string>(out var text) || text.EndsWith('…'))
            {
                return (first, null);
            }

            messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = calls[i]!["id"]!.DeepClone(), ["content"] = text });
        }

        return (first, Body(messages));
    }

    /// <summary>Each run's first and last model call sent again, directly, one after another.</summary>
    private async Task<(List<(double Ms, string? RequestId)> First, List<(double Ms, string? RequestId)> Last, List<string> Errors)> DirectAsync(int k,
        IReadOnlyList<(JsonObject First, JsonObject? Last)> bodies, CancellationToken ct)
    {
        var (first, last, errors) = (new List<(double, string?)>(), new List<(double, string?)>(), new List<string>());
        foreach (var (firstBody, lastBody) in bodies)
        {
            await TimeAsync(firstBody, first, "first");
            if (lastBody is not null)
            {
                await TimeAsync(lastBody, last, "last");
            }
        }

        return (first, last, errors);

        async Task TimeAsync(JsonObject body, List<(double, string?)> into, string which)
        {
            var (ms, id, error) = await client.TimedPostAsync("v1/chat/completions", Fresh(body), ct);
            if (error is null)
            {
                into.Add((ms, id));
            }
            else
            {
                errors.Add($"direct chat (K = {k}, {which}): {error}");
            }
        }
    }

    /// <summary>
    /// The body with a new number before every message but the system one, serialized as the run's calls are (UTF-8,
    /// non-ASCII as is). The fake vendor memoises the token count of every text of 256+ characters, and counting is most of
    /// its time on a long prompt: a body sent twice would be answered from the memo, where each run's user message and
    /// tool results are new to it (its system message is the same every run, and so it stays here).
    /// </summary>
    private byte[] Fresh(JsonObject body)
    {
        var copy = (JsonObject)body.DeepClone();
        var nonce = Interlocked.Increment(ref _nonce);
        foreach (var message in copy["messages"]!.AsArray())
        {
            if (message!["role"]!.GetValue<string>() != "system" && message["content"] is JsonValue v && v.TryGetValue<string>(out var text))
            {
                message["content"] = $"[{nonce}] {text}";
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(copy, Mulan.Gateway.Wire.WireJson.Serializer);
    }

    private async Task<(List<double> Ms, List<string> Errors)> SearchAsync(IReadOnlyList<string> searchQueries, CancellationToken ct)
    {
        var (ms, errors) = (new List<double>(), new List<string>());
        foreach (var query in searchQueries)
        {
            // top_k 5: what knowledge_search uses when the call gives none.
            var (took, _, error) = await client.TimedPostAsync($"api/knowledge-bases/{server.KnowledgeBaseId}/search",
                JsonSerializer.SerializeToUtf8Bytes(new { query, topK = 5 }), ct);
            if (error is null)
            {
                ms.Add(took);
            }
            else
            {
                errors.Add("search: " + error);
            }
        }

        return (ms, errors);
    }
}
