using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;

namespace Mulan.Tests.Evaluations;

/// <summary>Runs against an app and model routes on the fake vendor: metrics, the ledger, judge, cost cap, cancel, resume, deletion.</summary>
public sealed class EvaluationRunTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    // chat-wait answers each call after 400 ms whether streamed or not: long enough that a cancel or a deletion made
    // right after the start lands while the first items run, even on a loaded machine.
    private static readonly string Catalog = AppTestKit.Catalog.Replace(
        """{ "name": "chat", "deployments":""",
        """
        { "name": "chat-wait", "deployments": [ { "provider": "fake", "model": "fake-chat+firstbyte=400", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
        { "name": "chat", "deployments":
        """, StringComparison.Ordinal);

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(Catalog);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static async Task<string> CreateSetAsync(HttpClient client, object[] items, string? workspace = "default")
    {
        using var created = await client.PostAsJsonAsync("api/evaluations/sets", new { name = "set", workspace, items });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    public static async Task<JsonObject> StartAsync(HttpClient client, object body)
    {
        using var started = await client.PostAsJsonAsync("api/evaluations/runs", body);
        var text = await started.Content.ReadAsStringAsync();
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> WaitAsync(HttpClient client, string runId, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var run = (await client.GetFromJsonAsync<JsonObject>($"api/evaluations/runs/{runId}"))!;
            if (run["status"]!.GetValue<string>() != "running" || DateTime.UtcNow > deadline)
            {
                return run;
            }
            await Task.Delay(50);
        }
    }

    private static double? Metric(JsonObject run, string name) => run["metrics"]![name] is JsonValue v ? v.GetValue<double>() : null;

    private async Task PublishHrAsync()
    {
        await AppTestKit.KnowledgeBaseAsync(_host, "年假", "員工每年享有十五天帶薪年假。年假須提前一週申請。");
        await AppTestKit.PublishAsync(_host, new
        {
            slug = "hr", name = "HR", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "年假" }, retrieval = new { topK = 3 },
        });
    }

    [Fact]
    public async Task A_run_against_an_app_scores_its_answers_and_costs_exactly_what_the_ledger_charged_it()
    {
        await PublishHrAsync();
        var set = await CreateSetAsync(_host.Admin,
        [
            new { question = "年假有幾天？", expectedFacts = new[] { "15天", "提前一周" }, expectedSources = new[] { "年假.md" } },
            new { question = "年假要提前多久申請？", expectedFacts = new[] { "十五天", "三十天" }, expectedFactsMode = "any" },
            new { question = "病假有几天？", expectedFacts = new[] { "十天" } },
        ]);
        var started = await StartAsync(_host.Admin, new { set, target = new { app = "hr" }, concurrency = 2 });
        Assert.Equal("running", started["status"]!.GetValue<string>());
        var run = await WaitAsync(_host.Admin, started["id"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var items = run["items"]!.AsArray();
        Assert.Equal(3, items.Count);
        Assert.Contains("十五天", items[0]!["answer"]!.GetValue<string>());
        // The grounded fake answers with the first sentence only: "提前一周" is not in it.
        Assert.Equal(0.5, items[0]!["factRecall"]!.GetValue<double>());
        Assert.Equal(1.0, items[0]!["sourceHit"]!.GetValue<double>());
        Assert.Equal(1.0, items[1]!["factRecall"]!.GetValue<double>());
        Assert.Equal(0.0, items[2]!["factRecall"]!.GetValue<double>());
        Assert.Equal(0.5, Metric(run, "factRecall")!.Value, 6);
        Assert.NotNull(Metric(run, "latencyP95Ms"));
        Assert.True(run["metrics"]!["tokens"]!["prompt"]!.GetValue<long>() > 0);

        var records = await _host.WaitForRecordsAsync(3 * 2, $"&evaluationRun={run["id"]}");
        var cost = run["metrics"]!["cost"]!["amount"]!.GetValue<decimal>();
        Assert.True(cost > 0);
        Assert.Equal(records.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()), cost);
        Assert.All(records, r => Assert.Equal("service-evaluation-" + r["workspace"]!.GetValue<string>(), r["key"]!.GetValue<string>()));
        Assert.Contains(records, r => r["endpoint"]!.GetValue<string>() == "app.chat");
        Assert.Empty(await _host.UsageRecordsAsync("&evaluationRun=evr_none"));

        // What pilots read: the latest succeeded run of the set for the app.
        var results = _host.App.Services.GetRequiredService<Mulan.Evaluations.IEvaluationResults>();
        var latest = await results.LatestAsync(run["workspace"]!.GetValue<string>(), set, run["target"]!["app"]!.GetValue<string>(), default);
        Assert.Equal(run["id"]!.GetValue<string>(), latest!.RunId);
        Assert.Equal(cost, latest.CostAmount);
        Assert.Null(await results.LatestAsync(run["workspace"]!.GetValue<string>(), set, "app_other", default));
    }

    /// <summary>A knowledge base that embeds through the priced <c>embed</c> route, so its query embeddings are gateway calls.</summary>
    private async Task<string> EmbeddedKnowledgeBaseAsync(string name, string text)
    {
        using var created = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name, embeddingModel = "embed" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var kb = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var added = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = name + ".md", text });
        added.EnsureSuccessStatusCode();
        var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
        await Mulan.Tests.Knowledge.KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, kb, doc);
        return kb;
    }

    [Fact]
    public async Task A_knowledge_base_is_evaluated_through_its_ask_and_its_query_embeddings_are_charged_to_the_run()
    {
        var kb = await EmbeddedKnowledgeBaseAsync("leave", "員工每年享有十五天帶薪年假。年假須提前一週申請。");
        var set = await CreateSetAsync(_host.Admin,
        [
            new { question = "年假有幾天", expectedFacts = new[] { "十五天" }, expectedSources = new[] { "leave" } },
            new { question = "quantum chromodynamics lattice gauge", shouldRefuse = true },
        ]);
        var before = (await _host.UsageRecordsAsync()).Count;

        // Grounded: the answering route and the embedding route, both on the evaluation key, both marked with the run.
        var grounded = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { knowledgeBase = "leave", model = "chat-cite" } }))["id"]!.GetValue<string>());
        Assert.True(grounded["status"]!.GetValue<string>() == "succeeded", grounded.ToJsonString());
        Assert.Equal(kb, grounded["target"]!["knowledgeBase"]!.GetValue<string>());
        var items = grounded["items"]!.AsArray();
        Assert.Contains("十五天", items[0]!["answer"]!.GetValue<string>());
        Assert.Equal(1.0, items[0]!["factRecall"]!.GetValue<double>());
        Assert.Equal(1.0, items[0]!["sourceHit"]!.GetValue<double>());
        Assert.False(items[0]!["refused"]!.GetValue<bool>());
        var records = await _host.WaitForRecordsAsync(3, $"&evaluationRun={grounded["id"]}");
        Assert.Contains(records, r => r["model"]!.GetValue<string>() == "embed");
        Assert.Contains(records, r => r["model"]!.GetValue<string>() == "chat-cite");
        // The query embeddings stay on the knowledge key that embeds the base; the answer is on the evaluation key.
        Assert.All(records, r => Assert.Equal((r["model"]!.GetValue<string>() == "embed" ? "service-knowledge-" : "service-evaluation-") + r["workspace"],
            r["key"]!.GetValue<string>()));
        Assert.Equal(records.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()), grounded["metrics"]!["cost"]!["amount"]!.GetValue<decimal>());
        Assert.True(grounded["metrics"]!["tokens"]!["prompt"]!.GetValue<long>() > 0);

        // Extractive: no chat model, so the run's only calls are the query embeddings, and they are all it costs.
        var extractive = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { knowledgeBase = kb } }))["id"]!.GetValue<string>());
        Assert.Equal("succeeded", extractive["status"]!.GetValue<string>());
        Assert.Equal(1.0, extractive["items"]![0]!["sourceHit"]!.GetValue<double>());
        // The extractive answer finds too little of an unrelated question in the base: not found, counted as a refusal.
        Assert.True(extractive["items"]![1]!["refused"]!.GetValue<bool>());
        Assert.Equal(1.0, Metric(extractive, "refusalRecall"));
        var embedded = await _host.WaitForRecordsAsync(2, $"&evaluationRun={extractive["id"]}");
        Assert.All(embedded, r => Assert.Equal("embed", r["model"]!.GetValue<string>()));
        var cost = extractive["metrics"]!["cost"]!["amount"]!.GetValue<decimal>();
        Assert.True(cost > 0);
        Assert.Equal(embedded.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()), cost);

        // An app over the same base: its retrieval's query embedding is charged to the run too, and counted in its cost.
        var leaveApp = await AppTestKit.PublishAsync(_host, new { slug = "leave-qa", name = "Leave", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { kb } });
        var viaApp = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { app = "leave-qa" } }))["id"]!.GetValue<string>());
        Assert.Equal("succeeded", viaApp["status"]!.GetValue<string>());
        var appRecords = await _host.WaitForRecordsAsync(3, $"&evaluationRun={viaApp["id"]}");
        Assert.Contains(appRecords, r => r["model"]!.GetValue<string>() == "embed");
        // The query embedding is the app's as well: its app, version and the app request it served.
        var appRequests = appRecords.Where(r => r["endpoint"]!.GetValue<string>() == "app.chat").Select(r => r["requestId"]!.GetValue<string>()).ToList();
        Assert.Equal(2, appRequests.Count);
        Assert.All(appRecords.Where(r => r["model"]!.GetValue<string>() == "embed"), r =>
        {
            Assert.Equal(leaveApp, r["app"]!.GetValue<string>());
            Assert.Equal(1, r["appVersion"]!.GetValue<int>());
            Assert.Contains(r["parentRequestId"]!.GetValue<string>(), appRequests);
        });
        Assert.Equal(appRecords.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()), viaApp["metrics"]!["cost"]!["amount"]!.GetValue<decimal>());

        // The header that carries a run across a self-call means nothing on a client's key.
        var client = _host.Client(await _host.CreateKeyAsync(new { name = "c" }));
        using var forged = new HttpRequestMessage(HttpMethod.Post, "v1/embeddings") { Content = JsonContent.Create(new { model = "embed", input = "x" }) };
        forged.Headers.Add("x-mulan-evaluation-run", extractive["id"]!.GetValue<string>());
        forged.Headers.Add("x-mulan-app", leaveApp);
        forged.Headers.Add("x-mulan-app-version", "1");
        using var forgedResponse = await client.SendAsync(forged);
        forgedResponse.EnsureSuccessStatusCode();
        var forgedId = forgedResponse.Headers.GetValues("x-mulan-request-id").Single();
        var forgedRecord = (await _host.UsageRecordsAsync()).Single(r => r["requestId"]!.GetValue<string>() == forgedId);
        Assert.Null(forgedRecord["app"]?.GetValue<string>());
        Assert.Null(forgedRecord["evaluationRun"]?.GetValue<string>());
        Assert.Equal(embedded.Count, (await _host.UsageRecordsAsync($"&evaluationRun={extractive["id"]}")).Count);
        Assert.True((await _host.UsageRecordsAsync()).Count > before + records.Count + embedded.Count + appRecords.Count);

        // A target that does not exist is refused; one deleted later ends the run with the reason.
        using var missing = await _host.Admin.PostAsJsonAsync("api/evaluations/runs", new { set, target = new { knowledgeBase = "nope" } });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var both = await _host.Admin.PostAsJsonAsync("api/evaluations/runs", new { set, target = new { knowledgeBase = kb, app = "hr" } });
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
    }

    [Fact]
    public async Task A_judge_priced_in_another_currency_is_counted_in_the_runs_currency_at_the_exchange_rate()
    {
        var set = await CreateSetAsync(_host.Admin, [new { question = "one" }, new { question = "two" }]);
        // The target is priced in CNY, the judge in USD (7.1 CNY to the dollar in the test catalog).
        var run = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { model = "chat-cny" }, judge = "chat" }))["id"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var records = await _host.WaitForRecordsAsync(4, $"&evaluationRun={run["id"]}");
        var judged = records.Where(r => r["user"]?.GetValue<string>() == "evaluation-judge").ToList();
        Assert.Equal(2, judged.Count);
        Assert.All(judged, r => Assert.Equal("USD", r["cost"]!["currency"]!.GetValue<string>()));
        var targetCny = records.Except(judged).Sum(r => r["cost"]!["amount"]!.GetValue<decimal>());
        var judgeUsd = judged.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>());
        Assert.True(judgeUsd > 0);
        Assert.Equal("CNY", run["metrics"]!["cost"]!["currency"]!.GetValue<string>());
        Assert.Equal(targetCny, run["metrics"]!["cost"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(judgeUsd * 7.1m, run["metrics"]!["judgeCost"]!["amount"]!.GetValue<decimal>());
        Assert.All(run["items"]!.AsArray(), i => Assert.Equal("CNY", i!["currency"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_judge_scores_each_answer_and_its_cost_is_kept_apart()
    {
        // chat-echo answers with the question; as the judge it echoes the prompt, which quotes the answer holding the scores.
        var set = await CreateSetAsync(_host.Admin, [new { question = "faithfulness: 4, relevance: 5", expectedFacts = new[] { "relevance" } }]);
        var run = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { model = "chat-echo" }, judge = "chat-echo" }))["id"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(4.0, Metric(run, "faithfulness"));
        Assert.Equal(5.0, Metric(run, "relevance"));
        Assert.Equal(1, run["rubricVersion"]!.GetValue<int>());
        var target = run["metrics"]!["cost"]!["amount"]!.GetValue<decimal>();
        var judge = run["metrics"]!["judgeCost"]!["amount"]!.GetValue<decimal>();
        Assert.True(target > 0 && judge > target, $"target {target}, judge {judge}");
        var records = await _host.WaitForRecordsAsync(2, $"&evaluationRun={run["id"]}");
        Assert.Equal(judge, records.Where(r => r["user"]?.GetValue<string>() == "evaluation-judge").Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()));
        Assert.Equal(target, records.Where(r => r["user"] is null).Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task The_cost_cap_stops_the_run_before_it_is_exceeded()
    {
        var set = await CreateSetAsync(_host.Admin, [.. Enumerable.Range(0, 10).Select(i => (object)new { question = $"question number {i}" })]);
        var first = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { model = "chat" } }))["id"]!.GetValue<string>());
        var perItem = first["metrics"]!["cost"]!["amount"]!.GetValue<decimal>() / 10;
        var cap = perItem * 3.5m;
        var run = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { model = "chat" }, maxCost = cap, concurrency = 4 }))["id"]!.GetValue<string>());
        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Contains("cost cap", run["reason"]!.GetValue<string>());
        var spent = run["metrics"]!["cost"]!["amount"]!.GetValue<decimal>();
        Assert.True(spent <= cap, $"spent {spent} > cap {cap}");
        Assert.Equal(3, run["items"]!.AsArray().Count);
        var records = await _host.WaitForRecordsAsync(3, $"&evaluationRun={run["id"]}");
        Assert.Equal(spent, records.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task Bad_runs_are_refused_and_other_workspaces_runs_are_not_found()
    {
        var set = await CreateSetAsync(_host.Admin, [new { question = "q" }]);
        using var bad = await _host.Admin.PostAsJsonAsync("api/evaluations/runs", new { set, target = new { app = "a", model = "b" }, concurrency = 99, maxCost = -1, judge = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key).ToList();
        Assert.Contains("$.target", errors);
        Assert.Contains("$.concurrency", errors);
        Assert.Contains("$.maxCost", errors);
        Assert.Contains("$.judge", errors);
        using var noModel = await _host.Admin.PostAsJsonAsync("api/evaluations/runs", new { set, target = new { model = "nope" } });
        Assert.Equal(HttpStatusCode.BadRequest, noModel.StatusCode);
        using var noSet = await _host.Admin.PostAsJsonAsync("api/evaluations/runs", new { set = "evs_nope", target = new { model = "chat" } });
        Assert.Equal(HttpStatusCode.NotFound, noSet.StatusCode);

        var run = await WaitAsync(_host.Admin, (await StartAsync(_host.Admin, new { set, target = new { model = "chat" } }))["id"]!.GetValue<string>());
        using var ws = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" });
        var other = _host.Client(await _host.CreateKeyAsync(new { name = "o", workspace = "other" }));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"api/evaluations/runs/{run["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"api/evaluations/runs/{run["id"]}/cancel", null)).StatusCode);
        using var otherRun = await other.PostAsJsonAsync("api/evaluations/runs", new { set, target = new { model = "chat" } });
        Assert.Equal(HttpStatusCode.NotFound, otherRun.StatusCode);
        Assert.Empty((await other.GetFromJsonAsync<JsonObject>("api/evaluations/runs"))!["runs"]!.AsArray());
        Assert.Single((await _host.Admin.GetFromJsonAsync<JsonObject>("api/evaluations/runs"))!["runs"]!.AsArray());
        using var ended = await _host.Admin.PostAsync($"api/evaluations/runs/{run["id"]}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, ended.StatusCode);
    }

    [Fact]
    public async Task A_cancelled_run_stops_starting_items_and_a_deleted_set_ends_its_run_with_a_reason()
    {
        var set = await CreateSetAsync(_host.Admin, [.. Enumerable.Range(0, 20).Select(i => (object)new { question = $"q{i}" })]);
        var id = (await StartAsync(_host.Admin, new { set, target = new { model = "chat-wait" }, concurrency = 1 }))["id"]!.GetValue<string>();
        using var cancelled = await _host.Admin.PostAsync($"api/evaluations/runs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        await _host.App.Services.GetRequiredService<Mulan.Evaluations.EvaluationRunner>().DrainAsync();
        var run = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/runs/{id}"))!;
        Assert.Equal("cancelled", run["status"]!.GetValue<string>());
        Assert.True(run["items"]!.AsArray().Count < 20);

        var doomed = (await StartAsync(_host.Admin, new { set, target = new { model = "chat-wait" }, concurrency = 1 }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync($"api/evaluations/sets/{set}")).StatusCode);
        var ended = await WaitAsync(_host.Admin, doomed);
        Assert.Equal("failed", ended["status"]!.GetValue<string>());
        Assert.Contains("deleted", ended["reason"]!.GetValue<string>());
        Assert.True(ended["items"]!.AsArray().Count < 20);
    }

    [Fact]
    public async Task A_run_resumes_after_a_restart_and_asks_only_the_items_not_yet_stored()
    {
        var set = await CreateSetAsync(_host.Admin, [.. Enumerable.Range(0, 8).Select(i => (object)new { question = $"resume {i}" })]);
        var id = (await StartAsync(_host.Admin, new { set, target = new { model = "chat-wait" }, concurrency = 1 }))["id"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/runs/{id}"))!["items"]!.AsArray().Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        await _host.StopKeepingDataAsync();
        var data = _host.DataDirectory;
        var vendor = _host.Vendor;
        _host = await MulanHost.StartAsync(Catalog, vendor: vendor, dataDirectory: data);
        var run = await WaitAsync(_host.Admin, id, 60);
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var items = run["items"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 8), items.Select(i => i!["index"]!.GetValue<int>()));
        // Each question was asked once per stored result: no item asked again after the restart.
        var records = await _host.WaitForRecordsAsync(8, $"&evaluationRun={id}");
        Assert.True(records.Count(r => r["status"]!.GetValue<string>() == "ok") == 8, string.Join(", ", records.Select(r => r["status"])));
        Assert.Equal(records.Where(r => r["status"]!.GetValue<string>() == "ok").Sum(r => r["cost"]!["amount"]!.GetValue<decimal>()),
            run["metrics"]!["cost"]!["amount"]!.GetValue<decimal>());
    }
}
