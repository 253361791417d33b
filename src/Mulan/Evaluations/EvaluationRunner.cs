using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Gateway;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;
using Mulan.Governance.Currencies;
using Mulan.Knowledge;
using Mulan.Knowledge.Answering;
using Mulan.Knowledge.Retrieval;
using Microsoft.Extensions.Options;

namespace Mulan.Evaluations;

/// <summary>
/// Executes evaluation runs: each item's question goes to the target through the gateway pipeline in process (an app as
/// the model <c>app:&lt;slug&gt;</c>, or a model route), on the workspace's evaluation service key and marked with the run
/// (<see cref="EvaluationCall"/>), so every call is in the usage ledger under <c>evaluation_run_id</c>. Items run with
/// bounded concurrency and each result is stored as it finishes: after a restart <see cref="EvaluationResumer"/> starts
/// the run again and only the items not yet stored are asked.
/// </summary>
public sealed class EvaluationRunner(IServiceProvider services, IEvaluationStore store, ServiceKeys serviceKeys, AppDirectory directory, IAppStore apps,
    IKnowledgeStore knowledge, CatalogState catalog, ExchangeRates rates, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<EvaluationRunner> logger)
{
    public const int MaxConcurrency = 16;
    public const int MaxAnswerStored = 16_000;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _active = new(StringComparer.Ordinal);
    private readonly Hosting.BackgroundWork _background = new();

    private GatewayProxy Proxy => field ??= services.GetRequiredService<GatewayProxy>();

    /// <summary>Starts (or resumes) the run in the background unless it is already executing here.</summary>
    public void Start(string runId)
    {
        // Cancelling stops new items from starting; the calls in flight finish and are stored, so that what the run
        // reports is all the ledger charged to it. Only a server stop aborts calls (the run then resumes at the next start).
        var cts = new CancellationTokenSource();
        if (!_active.TryAdd(runId, cts))
        {
            cts.Dispose();
            return;
        }
        var task = Task.Run(async () =>
        {
            try
            {
                await ExecuteAsync(runId, cts.Token, lifetime.ApplicationStopping);
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // The server is stopping: the run stays running and resumes at the next start.
            }
            catch (Exception e)
            {
                logger.LogError(e, "Evaluation run {Run} failed", runId);
                await store.EndRunAsync(runId, EvaluationRunStatuses.Failed, "internal error: " + e.Message, time.GetUtcNow(), CancellationToken.None);
            }
            finally
            {
                _active.TryRemove(runId, out _);
                cts.Dispose();
            }
        }, CancellationToken.None);
        _background.Track(task);
    }

    /// <summary>Marks the run cancelled and stops its calls; false when it had already ended.</summary>
    public async Task<bool> CancelAsync(string runId, CancellationToken ct)
    {
        var ended = await store.EndRunAsync(runId, EvaluationRunStatuses.Cancelled, "cancelled", time.GetUtcNow(), ct);
        if (_active.TryGetValue(runId, out var cts))
        {
            try
            {
                await cts.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile.
            }
        }
        return ended;
    }

    /// <summary>Waits for the runs executing here (tests).</summary>
    public Task DrainAsync() => _background.IdleAsync();

    /// <summary>Waits for the runs executing here within the shutdown timeout; false when some were still going.</summary>
    public Task<bool> WaitIdleAsync(CancellationToken ct) => _background.WaitIdleAsync(ct);

    /// <summary>Why the target cannot be called (deleted, unpublished), or null when it can.</summary>
    public async Task<string?> TargetProblemAsync(string workspaceId, EvaluationTarget target, CancellationToken ct) =>
        (await ResolveAsync(workspaceId, target, ct)).Problem;

    /// <summary>What a run calls for its target.</summary>
    /// <param name="Label">how the target is named in a run's reason.</param>
    /// <param name="Model">the model the chat completion names (an app's <c>app:&lt;slug&gt;</c>, a route), or a knowledge base's answering route.</param>
    /// <param name="RefusalMessage">an app's own refusal message, so that its refusals are counted as such.</param>
    /// <param name="PricedRoute">the route whose price currency is the run's: every cost of an item is counted in it.</param>
    private sealed record Resolved(string Label, string? Model, string? RefusalMessage, KnowledgeBase? KnowledgeBase, string? Problem, string? PricedRoute = null);

    private async Task<Resolved> ResolveAsync(string workspaceId, EvaluationTarget target, CancellationToken ct)
    {
        if (target.App is { } appId)
        {
            var app = await apps.FindAsync(appId, ct);
            if (app is null || app.WorkspaceId != workspaceId)
            {
                return Problem($"the app '{appId}' no longer exists");
            }
            return directory.Find(workspaceId, app.Slug) is { } published
                ? new Resolved(published.ModelName, published.ModelName, published.Definition.Guardrails?.RefusalMessage, null, null, published.Definition.Model)
                : Problem($"the app '{app.Slug}' has no published version");
        }
        if (target.Model is { } model && !catalog.Current.Models.ContainsKey(model))
        {
            return Problem($"the model route '{model}' no longer exists");
        }
        if (target.KnowledgeBase is { } kbId)
        {
            return await knowledge.FindKnowledgeBaseAsync(kbId, workspaceId, ct) is { } kb
                ? new Resolved($"knowledge base '{kb.Name}'", target.Model, null, kb, null, target.Model ?? kb.EmbeddingModel)
                : Problem($"the knowledge base '{kbId}' no longer exists");
        }
        return target.Model is { } route ? new Resolved(route, route, null, null, null, route) : Problem("the run names no target");

        static Resolved Problem(string problem) => new("", null, null, null, problem);
    }

    private async Task ExecuteAsync(string runId, CancellationToken cancelled, CancellationToken ct)
    {
        if (await store.FindRunAsync(runId, ct) is not { Status: EvaluationRunStatuses.Running } run)
        {
            return;
        }
        var version = await store.VersionAsync(run.SetId, run.SetVersion, ct);
        if (version is null || await store.FindSetAsync(run.SetId, ct) is null)
        {
            await EndAsync(run, EvaluationRunStatuses.Failed, $"the evaluation set '{run.SetId}' was deleted");
            return;
        }
        var target = await ResolveAsync(run.WorkspaceId, run.Target, ct);
        if (target.Problem is { } problem)
        {
            await EndAsync(run, EvaluationRunStatuses.Failed, problem);
            return;
        }
        var done = await store.ItemsAsync(run.Id, ct);
        // One currency for the whole run, so that its sums, its cost cap and a bake-off's cost per 1,000 questions add
        // like with like: a fallback deployment, a judge or an embedding priced in another currency is converted into it.
        var currency = done.Select(d => d.Currency).FirstOrDefault(c => c is not null) ?? CurrencyOf(target.PricedRoute);
        var spent = done.Sum(i => i.Cost + i.JudgeCost);
        var costliest = done.Count == 0 ? (decimal?)null : done.Max(i => i.Cost + i.JudgeCost);
        var pending = new Queue<int>(Enumerable.Range(0, version.Items.Count).Except(done.Select(d => d.Index)));
        var bearer = serviceKeys.EvaluationBearerFor(run.WorkspaceId);
        string? failure = null;
        var gate = new object();
        var inFlight = 0;
        var running = new List<Task>();

        // Decides under the lock whether another item may start: never past the cost cap, judged by the costliest item
        // so far for each item in flight. The first item of a capped run runs alone, to learn what an item costs.
        bool MayStart(out int index)
        {
            index = -1;
            lock (gate)
            {
                if (failure is not null || pending.Count == 0 || cancelled.IsCancellationRequested)
                {
                    return false;
                }
                if (run.MaxCost is { } cap)
                {
                    if (costliest is null && inFlight > 0)
                    {
                        return false;
                    }
                    if (costliest is { } c && spent + (inFlight + 1) * c > cap)
                    {
                        if (inFlight == 0)
                        {
                            failure = $"cost cap: the next item would take the cost past maxCost {cap.ToString(CultureInfo.InvariantCulture)} (spent {spent.ToString(CultureInfo.InvariantCulture)})";
                        }
                        return false;
                    }
                }
                index = pending.Dequeue();
                inFlight++;
                return true;
            }
        }

        while (true)
        {
            while (running.Count < run.Concurrency && MayStart(out var index))
            {
                var item = version.Items[index];
                running.Add(Task.Run(async () =>
                {
                    var result = await AskAsync(run, target, currency, bearer, index, item, ct);
                    await store.SaveItemAsync(run.Id, result.Item, time.GetUtcNow(), CancellationToken.None);
                    lock (gate)
                    {
                        inFlight--;
                        spent += result.Item.Cost + result.Item.JudgeCost;
                        costliest = Math.Max(costliest ?? 0, result.Item.Cost + result.Item.JudgeCost);
                        failure ??= result.StopReason;
                    }
                }, CancellationToken.None));
            }
            if (running.Count == 0)
            {
                break;
            }
            var finished = await Task.WhenAny(running);
            running.Remove(finished);
            await finished;
            // A set deleted while the run goes on: the run ends with what it has.
            if (failure is null && pending.Count > 0 && await store.FindSetAsync(run.SetId, CancellationToken.None) is null)
            {
                lock (gate)
                {
                    failure = $"the evaluation set '{run.SetId}' was deleted";
                }
            }
        }
        ct.ThrowIfCancellationRequested();
        // A cancelled run is already ended: this changes nothing then.
        await EndAsync(run, failure is null ? EvaluationRunStatuses.Succeeded : EvaluationRunStatuses.Failed, failure);
    }

    private Task EndAsync(EvaluationRun run, string status, string? reason) =>
        store.EndRunAsync(run.Id, status, reason, time.GetUtcNow(), CancellationToken.None);

    private sealed record Asked(EvaluationItemResult Item, string? StopReason);

    private async Task<Asked> AskAsync(EvaluationRun run, Resolved target, string? currency, string bearer, int index, EvaluationItem item, CancellationToken ct)
    {
        // The calls the target makes to this server over HTTP (retrieval's embeddings, reranking) carry the run too.
        var scope = SelfCallScope.BeginEvaluation(run.Id);
        var started = Stopwatch.GetTimestamp();
        var call = target.KnowledgeBase is { } kb
            ? await AskKnowledgeAsync(kb, target.Model, bearer, item.Question, ct)
            : await CallAsync(run.Id, bearer, new JsonObject
            {
                ["model"] = target.Model,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = item.Question }),
            }, ct);
        var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var cost = new ItemCost(currency, Convert, logger);
        cost.Add(call.Cost, call.Currency);
        foreach (var (amount, from) in scope.Costs)
        {
            cost.Add(amount, from);
        }
        var (prompt, completion) = scope.Tokens;
        call = call with { Cost = cost.Amount, Currency = cost.Currency, PromptTokens = call.PromptTokens + prompt, CompletionTokens = call.CompletionTokens + completion };
        if (call.Error is { } error)
        {
            var item0 = Result(index, item, "", [], latency, call, 0, null, null, error, target.RefusalMessage);
            // A target that is gone fails every item the same way: the run ends rather than spending on the rest.
            var stop = call.Status == 404 && call.ErrorCode is "model_not_found" or "knowledge_base_not_found" ? $"the target {target.Label} no longer exists" : null;
            return new Asked(item0, stop);
        }
        double? faithfulness = null, relevance = null;
        string? judgeError = null;
        var judgeCost = new ItemCost(cost.Currency, Convert, logger);
        if (run.Judge is { } judge)
        {
            var verdict = await JudgeAsync(run.Id, bearer, judge, item, call.Text, call.Citations, ct);
            judgeCost.Add(verdict.Cost, verdict.Currency);
            (faithfulness, relevance, judgeError) = (verdict.Faithfulness, verdict.Relevance, verdict.Error);
        }
        // An item that cost nothing in the target's currency takes the judge's.
        call = call with { Currency = call.Currency ?? judgeCost.Currency };
        return new Asked(Result(index, item, call.Text, call.Citations, latency, call, judgeCost.Amount, faithfulness, relevance, null, target.RefusalMessage)
            with { JudgeError = judgeError }, null);
    }

    private decimal? Convert(decimal amount, string from, string to) => rates.Current.Convert(amount, from, to, time.GetUtcNow());

    /// <summary>The currency a route's first enabled deployment is priced in now, if the route exists.</summary>
    private string? CurrencyOf(string? route) =>
        route is not null && catalog.Current.Models.TryGetValue(route, out var r) && r.Deployments.FirstOrDefault(d => d.Settings.Enabled) is { } d
            ? d.PriceAt(time.GetUtcNow()).Currency.ToString()
            : null;

    /// <summary>
    /// An item's cost in the run's currency (or, when the run has none yet, the first currency it meets): an amount in
    /// another currency is converted at today's rate; one with no rate to convert it is left out of the item's figure and
    /// logged (the ledger still has the record, in its own currency).
    /// </summary>
    private sealed class ItemCost(string? currency, Func<decimal, string, string, decimal?> convert, ILogger logger)
    {
        public decimal Amount { get; private set; }

        public string? Currency { get; private set; } = currency;

        public void Add(decimal amount, string? from)
        {
            if (from is null || amount == 0)
            {
                return;
            }
            Currency ??= from;
            if (convert(amount, from, Currency) is { } converted)
            {
                Amount += converted;
            }
            else
            {
                logger.LogWarning("An evaluation item's call cost {Amount} {From}, with no rate to {To}: left out of the item's cost", amount, from, Currency);
            }
        }
    }

    /// <summary>A knowledge base's ask, as <c>POST /api/knowledge-bases/{id}/ask</c> answers it: the search, then a grounded
    /// answer from the route (on the evaluation key) or, without one, an extractive answer. Not found counts as a refusal.</summary>
    private async Task<Called> AskKnowledgeAsync(KnowledgeBase kb, string? model, string bearer, string question, CancellationToken ct)
    {
        try
        {
            if (await knowledge.FindKnowledgeBaseAsync(kb.Id, kb.WorkspaceId, ct) is null)
            {
                return new Called(404, "", [], 0, 0, 0, null, "404: the knowledge base no longer exists", "knowledge_base_not_found");
            }
            var search = services.GetRequiredService<KnowledgeSearch>();
            var topK = Math.Max(5, services.GetRequiredService<IOptions<KnowledgeOptions>>().Value.DefaultTopK);
            var results = (await search.SearchAsync(kb, question, topK, null, null, ct)).Results;
            var answer = model is null
                ? services.GetRequiredService<ExtractiveAnswerer>().Answer(question, results)
                : await services.GetRequiredService<GroundedAnswerer>().AnswerAsync(question, results, model, bearer, ct);
            answer = answer.Grounded(question);
            return new Called(200, answer.Text, [.. answer.Citations.Select(c => c.Chunk.Title)], 0, 0, 0, null, null, null) { Refused = !answer.Found };
        }
        catch (GatewayCallException e)
        {
            return new Called(e.Status, "", [], 0, 0, 0, null, $"{e.Status}: {e.Message}", null);
        }
    }

    private static EvaluationItemResult Result(int index, EvaluationItem item, string answer, IReadOnlyList<string> citations, double latency, Called call,
        decimal judgeCost, double? faithfulness, double? relevance, string? error, string? refusalMessage)
    {
        var failed = call.Error is not null;
        var refused = !failed && (call.Refused ?? RefusalDetector.IsRefusal(answer, refusalMessage));
        return new EvaluationItemResult(index, item.Question, answer.Length > MaxAnswerStored ? answer[..MaxAnswerStored] : answer, refused, item.ShouldRefuse,
            failed || item.ShouldRefuse ? null : ItemScoring.FactRecall(answer, item.ExpectedFacts, item.ExpectedFactsMode),
            failed ? null : ItemScoring.SourceHit(citations, item.ExpectedSources), citations, answer.Length, latency, call.PromptTokens, call.CompletionTokens,
            call.Cost + 0m, judgeCost, call.Currency, faithfulness, relevance, error, item.Tags);
    }

    /// <param name="Refused">set when the target says it did not find an answer (a knowledge base's not found).</param>
    private sealed record Called(int Status, string Text, IReadOnlyList<string> Citations, long PromptTokens, long CompletionTokens, decimal Cost, string? Currency,
        string? Error, string? ErrorCode)
    {
        public bool? Refused { get; init; }
    }

    /// <summary>One chat completion through the gateway, as a client call on the evaluation key, marked with the run.</summary>
    private async Task<Called> CallAsync(string runId, string bearer, JsonObject body, CancellationToken ct)
    {
        var ctx = new DefaultHttpContext { RequestServices = services, RequestAborted = ct };
        ctx.Request.Method = HttpMethods.Post;
        ctx.Request.Path = "/v1/chat/completions";
        ctx.Request.ContentType = "application/json";
        ctx.Request.Headers.Authorization = "Bearer " + bearer;
        ctx.Request.Body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Serializer));
        ctx.Features.Set(new EvaluationCall(runId));
        using var response = new MemoryStream();
        ctx.Response.Body = response;
        await Proxy.HandleAsync(ctx, GatewayEndpoint.ChatCompletions);
        ct.ThrowIfCancellationRequested();
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(response.ToArray());
        }
        catch (JsonException)
        {
            json = null;
        }
        var cost = decimal.TryParse(ctx.Response.Headers["x-mulan-cost"].ToString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var c) ? c : 0m;
        var currency = ctx.Response.Headers["x-mulan-cost-currency"].ToString() is { Length: > 0 } cur ? cur : null;
        if (ctx.Response.StatusCode != 200 || json is null)
        {
            var message = json?["error"]?["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : "the target did not answer";
            var code = json?["error"]?["code"] is JsonValue cv && cv.TryGetValue<string>(out var codeText) ? codeText : null;
            return new Called(ctx.Response.StatusCode, "", [], 0, 0, cost, currency, $"{ctx.Response.StatusCode}: {message}", code);
        }
        var answer = json["choices"]?[0]?["message"]?["content"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var citations = (json["citations"] as JsonArray ?? []).Select(n => n?["title"] is JsonValue t && t.TryGetValue<string>(out var title) ? title : null)
            .OfType<string>().ToList();
        return new Called(200, answer, citations, Tokens(json["usage"], "prompt_tokens"), Tokens(json["usage"], "completion_tokens"), cost, currency, null, null);
    }

    private static long Tokens(JsonNode? usage, string name) => usage?[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0;

    private sealed record Verdict(double? Faithfulness, double? Relevance, decimal Cost, string? Currency, string? Error);

    private async Task<Verdict> JudgeAsync(string runId, string bearer, string judge, EvaluationItem item, string answer, IReadOnlyList<string> citations,
        CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = judge,
            // The judge's records are told apart from the target's in the ledger by this end user.
            ["user"] = JudgeRubric.EndUser,
            ["temperature"] = 0,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = JudgeRubric.Text },
                new JsonObject { ["role"] = "user", ["content"] = JudgeRubric.Prompt(item, answer, citations) }),
        };
        var call = await CallAsync(runId, bearer, body, ct);
        if (call.Error is { } error)
        {
            return new Verdict(null, null, call.Cost, call.Currency, error);
        }
        return JudgeRubric.Parse(call.Text) is { } scores
            ? new Verdict(scores.Faithfulness, scores.Relevance, call.Cost, call.Currency, null)
            : new Verdict(null, null, call.Cost, call.Currency, "the judge's reply held no scores");
    }
}

/// <summary>Picks up the runs that were running when the server stopped and carries them on.</summary>
public sealed partial class EvaluationResumer(IEvaluationStore store, EvaluationRunner runner, ILogger<EvaluationResumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var run in await store.RunsAsync(null, null, EvaluationRunStatuses.Running, int.MaxValue, stoppingToken))
        {
            logger.LogInformation("Resuming evaluation run {Run}", run.Id);
            runner.Start(run.Id);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // A run still asking when the timeout ends stays running in storage and resumes at the next start.
        if (!await runner.WaitIdleAsync(cancellationToken))
        {
            LogRunsStillGoing(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Evaluation runs were still going when the shutdown timeout ended; they resume at the next start")]
    private static partial void LogRunsStillGoing(ILogger logger);
}
