using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Evaluations;

/// <summary>One evaluation run or one pass of direct calls over the same questions, with Mulan's CPU time over it.</summary>
/// <param name="Seconds">a run's createdAt → endedAt; a direct pass's first request → last response.</param>
/// <param name="ClientSeconds">a run's POST → the poll that saw it ended (polled every <see cref="EvaluationRounds.PollMs"/> ms).</param>
internal sealed record Pass(int Concurrency, bool Evaluation, int Round, double Seconds, double ClientSeconds, double MulanCpuSeconds, string? RunId);

/// <summary>
/// The evaluation part: one set of real dataset questions, then rounds in which every concurrency C gets one evaluation
/// run against the route <see cref="EvaluationsServer.EvalRoute"/> (<c>POST /api/evaluations/runs</c>, polled to its end)
/// and one pass of the same questions sent by this client straight to <c>/v1/chat/completions</c> on the same route at the
/// same concurrency. Every run is checked: succeeded, every item answered without error, and exactly one usage record per
/// item in the ledger (<c>GET /api/usage?evaluationRun=</c>); a pass is checked to have had 200 for every request.
/// </summary>
internal sealed class EvaluationRounds(EvaluationsServer server, LoadClient load, IReadOnlyList<(string Question, string Answer)> questions, EvaluationsPlan plan,
    Progress progress)
{
    public const int PollMs = 50;
    private readonly IReadOnlyList<byte[]> _bodies = Apps.AppsServer.Chat(EvaluationsServer.EvalRoute, [.. questions.Select(q => q.Question)], false);

    public string SetId { get; private set; } = "";

    /// <summary>Usage records the runs made (all checked), so the pilot part can say what else the ledger holds.</summary>
    public long RecordsMade { get; private set; }

    public async Task CreateSetAsync(CancellationToken ct)
    {
        var items = questions.Select(q => q.Answer.Length > 0
            ? (object)new { question = q.Question, expectedFacts = new[] { q.Answer } }
            : new { question = q.Question }).ToArray();
        var set = await server.PostAsync("api/evaluations/sets", new { name = "bench-questions", workspace = "default", items }, ct);
        SetId = set["id"]!.GetValue<string>();
        var stored = set["items"]!.AsArray().Count;
        if (stored != questions.Count)
        {
            throw new BenchException($"the evaluation set {SetId} holds {stored} items, {questions.Count} were posted");
        }
    }

    public async Task<IReadOnlyList<Pass>> RunAsync(CancellationToken ct)
    {
        var passes = new List<Pass>();
        for (var round = -plan.WarmupRounds; round < plan.Rounds; round++)
        {
            var r = round + plan.WarmupRounds;
            var order = plan.Concurrency.Skip(r % plan.Concurrency.Count).Concat(plan.Concurrency.Take(r % plan.Concurrency.Count)).ToList();
            foreach (var c in order)
            {
                // Which arm goes first alternates, so neither always meets a freshly checkpointed database.
                var evaluationFirst = (r + c) % 2 == 0;
                var first = evaluationFirst ? await EvaluationAsync(c, round, ct) : await DirectAsync(c, round, ct);
                var second = evaluationFirst ? await DirectAsync(c, round, ct) : await EvaluationAsync(c, round, ct);
                if (round >= 0)
                {
                    passes.Add(first);
                    passes.Add(second);
                }
            }

            progress.Say(round < 0 ? $"evaluations: warm-up round {r + 1} done" : $"evaluations: round {round + 1}/{plan.Rounds} done");
        }

        return passes;
    }

    private async Task<Pass> EvaluationAsync(int concurrency, int round, CancellationToken ct)
    {
        var cpu = ProcessCpu.Sample(server.Process.Pid);
        var started = Stopwatch.GetTimestamp();
        var run = await server.PostAsync("api/evaluations/runs", new { set = SetId, target = new { model = EvaluationsServer.EvalRoute }, concurrency }, ct);
        var id = run["id"]!.GetValue<string>();
        JsonObject view;
        var deadline = Stopwatch.GetTimestamp() + 300 * Stopwatch.Frequency;
        while (true)
        {
            view = await server.GetAsync($"api/evaluations/runs/{id}", ct);
            if (view["status"]!.GetValue<string>() != "running")
            {
                break;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new BenchException($"evaluation run {id} (C = {concurrency}) did not end within 300 s");
            }

            await Task.Delay(PollMs, ct);
        }

        var client = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var mulanCpu = ProcessCpu.Sample(server.Process.Pid).SecondsSince(cpu);
        await CheckAsync(id, view, ct);
        var seconds = (view["endedAt"]!.GetValue<DateTimeOffset>() - view["createdAt"]!.GetValue<DateTimeOffset>()).TotalSeconds;
        return new Pass(concurrency, true, round, seconds, client, mulanCpu, id);
    }

    /// <summary>A run that did not do all its work is not a measurement: status, every item, no errors, one usage record per item.</summary>
    private async Task CheckAsync(string id, JsonObject view, CancellationToken ct)
    {
        var status = view["status"]!.GetValue<string>();
        if (status != "succeeded")
        {
            throw new BenchException($"evaluation run {id} ended {status}: {view["reason"]}");
        }

        var items = view["items"]!.AsArray();
        var errors = view["metrics"]!["errors"]!.GetValue<int>();
        var failed = items.FirstOrDefault(i => i!["error"] is JsonValue);
        if (view["done"]!.GetValue<int>() != questions.Count || items.Count != questions.Count || errors != 0 || failed is not null)
        {
            throw new BenchException($"evaluation run {id}: {items.Count} of {questions.Count} items, {errors} errors{(failed is null ? "" : $" (first: {failed["error"]})")}");
        }

        var records = await server.UsageCountAsync($"evaluationRun={id}", ct);
        if (records != questions.Count)
        {
            throw new BenchException($"evaluation run {id}: the ledger holds {records} usage records for it, {questions.Count} expected");
        }

        RecordsMade += records;
    }

    /// <summary>The same questions, each once, by C workers taking the next: what the route serves without the runner.</summary>
    private async Task<Pass> DirectAsync(int concurrency, int round, CancellationToken ct)
    {
        var next = -1;
        var errors = 0;
        string? firstError = null;
        var cpu = ProcessCpu.Sample(server.Process.Pid);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < _bodies.Count; i = Interlocked.Increment(ref next))
            {
                using var response = await load.PostAsync(server.Mulan.ChatUrl, server.Mulan.Authorization, _bodies[i], HttpCompletionOption.ResponseContentRead, ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}", null);
                }
            }
        }, ct)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var mulanCpu = ProcessCpu.Sample(server.Process.Pid).SecondsSince(cpu);
        return errors == 0 ? new Pass(concurrency, false, round, seconds, seconds, mulanCpu, null)
            : throw new BenchException($"direct calls at C = {concurrency}: {errors} of {_bodies.Count} failed (first: {firstError})");
    }

    /// <summary>For the report: one item as it was posted.</summary>
    public string Sample() => JsonSerializer.Serialize(new { question = questions[0].Question, expectedFacts = new[] { questions[0].Answer } },
        new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
