using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;

namespace Mulan.Tests.Evaluations;

/// <summary>One server for the API tests below: a grounded app over a leave policy, and a second workspace with a key of its own.</summary>
public sealed class EvaluationApiFixture : IAsyncLifetime
{
    public MulanHost Host { get; private set; } = null!;
    public HttpClient Outsider { get; private set; } = null!;
    public string OutsiderKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        // chat-down answers every call with 500: a run against it has every item failed.
        Host = await MulanHost.StartAsync(AppTestKit.Catalog.Replace(
            """{ "name": "chat", "deployments":""",
            """
            { "name": "chat-down", "deployments": [ { "provider": "fake", "model": "fake-chat+fail=500", "maxRetries": 0, "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "chat", "deployments":
            """, StringComparison.Ordinal));
        await AppTestKit.KnowledgeBaseAsync(Host, "年假", "員工每年享有十五天帶薪年假。年假須提前一週申請。");
        await AppTestKit.PublishAsync(Host, new
        {
            slug = "hr", name = "HR", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "年假" }, retrieval = new { topK = 3 },
        });
        using var ws = await Host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" });
        Assert.True(ws.IsSuccessStatusCode, await ws.Content.ReadAsStringAsync());
        OutsiderKey = await Host.CreateKeyAsync(new { name = "outsider", workspace = "other" });
        Outsider = Host.Client(OutsiderKey);
    }

    public async Task DisposeAsync()
    {
        Outsider.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary><c>compare</c> over real runs, <c>from-feedback</c> over real feedback on real app answers, and the bad input of
/// <c>bakeoff</c>, on one server.</summary>
public sealed class EvaluationApiTests(EvaluationApiFixture fixture) : IClassFixture<EvaluationApiFixture>
{
    private MulanHost Host => fixture.Host;

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static IReadOnlyList<string> ErrorFields(JsonObject problem) => [.. problem["errors"]!.AsObject().Select(e => e.Key)];

    private async Task<string> RunAsync(string set, object target)
    {
        var run = await EvaluationRunTests.WaitAsync(Host.Admin, (await EvaluationRunTests.StartAsync(Host.Admin, new { set, target }))["id"]!.GetValue<string>());
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        return run["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task Compare_marks_each_item_better_worse_or_unchanged_between_two_real_runs_and_refuses_bad_input()
    {
        // chat-echo answers with the question itself; the app answers with the policy's first sentence ("十五天").
        var set = await EvaluationRunTests.CreateSetAsync(Host.Admin,
        [
            new { question = "年假有幾天？", expectedFacts = new[] { "十五天" } },           // echo 0, app 1: better
            new { question = "帶薪年假一年幾天？", expectedFacts = new[] { "十五天" } },     // echo 0, app 1: better
            new { question = "年假要提前多久申請？", expectedFacts = new[] { "提前多久" } }, // echo 1, app 0: worse
            new { question = "年假有幾天呢？", expectedFacts = new[] { "三十天" } },         // 0 and 0: unchanged
        ]);
        var echo = await RunAsync(set, new { model = "chat-echo" });
        var app = await RunAsync(set, new { app = "hr" });

        var compared = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/compare?a={echo}&b={app}"))!;
        Assert.Equal(echo, compared["a"]!.GetValue<string>());
        Assert.Equal(app, compared["b"]!.GetValue<string>());
        Assert.Equal(set, compared["set"]!.GetValue<string>());
        var items = compared["items"]!.AsArray().ToDictionary(i => i!["question"]!.GetValue<string>(), i => i!.AsObject());
        Assert.Equal(4, items.Count);
        string Verdict(string q) => items[q]["verdict"]!.GetValue<string>();
        Assert.Equal("better", Verdict("年假有幾天？"));
        Assert.Equal("better", Verdict("帶薪年假一年幾天？"));
        Assert.Equal("worse", Verdict("年假要提前多久申請？"));
        Assert.Equal("unchanged", Verdict("年假有幾天呢？"));
        var recall = items["年假有幾天？"]["metrics"]!["factRecall"]!;
        Assert.Equal(0.0, recall["a"]!.GetValue<double>());
        Assert.Equal(1.0, recall["b"]!.GetValue<double>());
        Assert.Equal("better", recall["verdict"]!.GetValue<string>());
        Assert.Equal(0, items["年假有幾天？"]["indexA"]!.GetValue<int>());
        Assert.Equal(2, compared["summary"]!["better"]!.GetValue<int>());
        Assert.Equal(1, compared["summary"]!["worse"]!.GetValue<int>());
        Assert.Equal(1, compared["summary"]!["unchanged"]!.GetValue<int>());
        // Overall: 1 of 4 facts found against 2 of 4.
        var overall = compared["metrics"]!["factRecall"]!;
        Assert.Equal(0.25, overall["a"]!.GetValue<double>(), 6);
        Assert.Equal(0.5, overall["b"]!.GetValue<double>(), 6);
        Assert.Equal("better", overall["verdict"]!.GetValue<string>());

        // The other way round, every verdict turns over.
        var reversed = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/compare?a={app}&b={echo}"))!;
        Assert.Equal(1, reversed["summary"]!["better"]!.GetValue<int>());
        Assert.Equal(2, reversed["summary"]!["worse"]!.GetValue<int>());
        Assert.Equal("worse", reversed["metrics"]!["factRecall"]!["verdict"]!.GetValue<string>());
        // A run against itself: nothing changed.
        var same = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/compare?a={app}&b={app}"))!;
        Assert.Equal(4, same["summary"]!["unchanged"]!.GetValue<int>());

        // Bad input.
        Assert.Equal(["a"], ErrorFields(await ProblemAsync(await Host.Admin.GetAsync($"api/evaluations/compare?b={app}"), HttpStatusCode.BadRequest)));
        Assert.Equal(["b"], ErrorFields(await ProblemAsync(await Host.Admin.GetAsync($"api/evaluations/compare?a={app}&b="), HttpStatusCode.BadRequest)));
        Assert.Equal(["a", "b"], ErrorFields(await ProblemAsync(await Host.Admin.GetAsync("api/evaluations/compare"), HttpStatusCode.BadRequest)).Order());
        await ProblemAsync(await Host.Admin.GetAsync($"api/evaluations/compare?a=evr_nope&b={app}"), HttpStatusCode.NotFound);
        await ProblemAsync(await Host.Admin.GetAsync($"api/evaluations/compare?a={app}&b=evr_nope"), HttpStatusCode.NotFound);
        var otherSet = await EvaluationRunTests.CreateSetAsync(Host.Admin, [new { question = "年假有幾天？", expectedFacts = new[] { "十五天" } }]);
        var otherRun = await RunAsync(otherSet, new { model = "chat-echo" });
        Assert.Equal(["b"], ErrorFields(await ProblemAsync(await Host.Admin.GetAsync($"api/evaluations/compare?a={app}&b={otherRun}"), HttpStatusCode.BadRequest)));
        // Another workspace's key sees these runs as missing.
        await ProblemAsync(await fixture.Outsider.GetAsync($"api/evaluations/compare?a={echo}&b={app}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_item_answered_in_one_run_and_failed_in_the_other_is_not_unchanged()
    {
        var set = await EvaluationRunTests.CreateSetAsync(Host.Admin,
        [
            new { question = "年假有幾天？", expectedFacts = new[] { "年假" } },
            new { question = "病假有幾天？", expectedFacts = new[] { "三十天" } },
        ]);
        var answered = await RunAsync(set, new { model = "chat-echo" });
        var down = await EvaluationRunTests.WaitAsync(Host.Admin, (await EvaluationRunTests.StartAsync(Host.Admin, new { set, target = new { model = "chat-down" } }))["id"]!.GetValue<string>());
        Assert.All(down["items"]!.AsArray(), i => Assert.NotNull(i!["error"]));
        var failed = down["id"]!.GetValue<string>();

        // A route that fails every call is a regression on every item, even one that scored 0 when answered.
        var worse = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/compare?a={answered}&b={failed}"))!;
        Assert.Equal(2, worse["summary"]!["worse"]!.GetValue<int>());
        Assert.All(worse["items"]!.AsArray(), i => Assert.Equal("worse", i!["verdict"]!.GetValue<string>()));
        var better = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/compare?a={failed}&b={answered}"))!;
        Assert.Equal(2, better["summary"]!["better"]!.GetValue<int>());
        var same = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/compare?a={failed}&b={failed}"))!;
        Assert.Equal(2, same["summary"]!["unchanged"]!.GetValue<int>());
    }

    [Fact]
    public async Task From_feedback_turns_the_corrections_given_on_real_app_answers_into_a_new_set_version()
    {
        using var client = Host.Client(await Host.CreateKeyAsync(new { name = "hr users" }));
        async Task<string> AskAsync(string question)
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "app:hr", messages = new[] { new { role = "user", content = question } } });
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return response.Headers.GetValues("x-mulan-request-id").Single();
        }
        var corrected = await AskAsync("年假要提前多久申請？");
        var liked = await AskAsync("年假有幾天？");
        using (var given = await Host.Admin.PostAsJsonAsync("api/feedback", new { requestId = corrected, rating = "down", correction = "  須提前一週申請。 " }))
        {
            Assert.True(given.StatusCode == HttpStatusCode.OK, await given.Content.ReadAsStringAsync());
        }
        using (var given = await Host.Admin.PostAsJsonAsync("api/feedback", new { requestId = liked, rating = "up" }))
        {
            Assert.Equal(HttpStatusCode.OK, given.StatusCode);
        }
        // Feedback takes corrections of up to 20,000 characters, a set's reference answer at most 16,000: such a correction
        // cannot be an item (the set could not be written back as it is read).
        var tooLong = await AskAsync("病假怎麼請？");
        using (var given = await Host.Admin.PostAsJsonAsync("api/feedback", new { requestId = tooLong, rating = "down", correction = new string('x', 17_000) }))
        {
            Assert.Equal(HttpStatusCode.OK, given.StatusCode);
        }

        var set = await EvaluationRunTests.CreateSetAsync(Host.Admin, [new { question = "病假有幾天？", expectedFacts = new[] { "十天" } }]);
        using var added = await Host.Admin.PostAsJsonAsync($"api/evaluations/sets/{set}/from-feedback", new { app = "hr" });
        var view = await ProblemAsync(added, HttpStatusCode.OK);
        Assert.Equal(2, view["version"]!.GetValue<int>());
        var items = view["items"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.Equal("病假有幾天？", items[0]!["question"]!.GetValue<string>());
        // Only the correction becomes an item (the thumbs-up without one does not), trimmed, tagged with its origin.
        Assert.Equal("年假要提前多久申請？", items[1]!["question"]!.GetValue<string>());
        Assert.Equal("須提前一週申請。", items[1]!["referenceAnswer"]!.GetValue<string>());
        Assert.Contains("feedback", items[1]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        // The new version is a set the API itself accepts: written back unchanged, it is version 3.
        using (var written = await Host.Admin.PutAsJsonAsync($"api/evaluations/sets/{set}", new { items = items.Select(i => new
        {
            question = i!["question"]!.GetValue<string>(), referenceAnswer = i["referenceAnswer"]?.GetValue<string>(), tags = i["tags"]?.AsArray().Select(t => t!.GetValue<string>()),
        }) }))
        {
            Assert.Equal(3, (await ProblemAsync(written, HttpStatusCode.OK))["version"]!.GetValue<int>());
        }
        // Version 1 is still readable as it was.
        var v1 = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/sets/{set}?version=1"))!;
        Assert.Single(v1["items"]!.AsArray());
        Assert.Equal(3, (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/sets/{set}"))!["latestVersion"]!.GetValue<int>());

        // Asked again with nothing new: 409, and no version 4.
        using var again = await Host.Admin.PostAsJsonAsync($"api/evaluations/sets/{set}/from-feedback", new { app = "hr" });
        Assert.Equal("no_new_feedback", (await ProblemAsync(again, HttpStatusCode.Conflict))["code"]!.GetValue<string>());

        // Bad input: no app, an unknown property, an unknown app, another workspace's app (by slug or id), another workspace's set.
        using var noApp = await Host.Admin.PostAsJsonAsync($"api/evaluations/sets/{set}/from-feedback", new { });
        Assert.Equal(["$.app"], ErrorFields(await ProblemAsync(noApp, HttpStatusCode.BadRequest)));
        using var extra = await Host.Admin.PostAsJsonAsync($"api/evaluations/sets/{set}/from-feedback", new { app = "hr", limit = 5 });
        Assert.Equal(["$.limit"], ErrorFields(await ProblemAsync(extra, HttpStatusCode.BadRequest)));
        using var unknown = await Host.Admin.PostAsJsonAsync($"api/evaluations/sets/{set}/from-feedback", new { app = "nope" });
        await ProblemAsync(unknown, HttpStatusCode.NotFound);
        using var otherApp = await Host.Admin.PostAsJsonAsync("api/apps", new { slug = "their-copy", name = "Theirs", kind = "copywriter", model = "chat", workspace = "other" });
        var otherAppId = (await ProblemAsync(otherApp, HttpStatusCode.Created))["id"]!.GetValue<string>();
        foreach (var appRef in new[] { "their-copy", otherAppId })
        {
            using var foreign = await Host.Admin.PostAsJsonAsync($"api/evaluations/sets/{set}/from-feedback", new { app = appRef });
            await ProblemAsync(foreign, HttpStatusCode.NotFound);
        }
        using var foreignSet = await fixture.Outsider.PostAsJsonAsync($"api/evaluations/sets/{set}/from-feedback", new { app = "hr" });
        await ProblemAsync(foreignSet, HttpStatusCode.NotFound);
        Assert.Equal(3, (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/sets/{set}"))!["latestVersion"]!.GetValue<int>());
    }

    [Fact]
    public async Task Bakeoff_refuses_missing_or_too_many_runs_and_bad_weights_naming_the_parameter()
    {
        var set = await EvaluationRunTests.CreateSetAsync(Host.Admin, [new { question = "年假有幾天？", expectedFacts = new[] { "十五天" } }]);
        var run = await RunAsync(set, new { model = "chat-echo" });
        var many = string.Join(',', Enumerable.Range(0, 21).Select(i => $"evr_{i}"));
        foreach (var (query, field) in new[]
        {
            ("", "runs"), ("runs=", "runs"), ("runs=,,", "runs"), ($"runs={many}", "runs"),
            ($"runs={run}&weights=vibes:1", "weights"), ($"runs={run}&weights=factRecall", "weights"), ($"runs={run}&weights=factRecall:-0.5", "weights"),
            ($"runs={run}&weights=factRecall:0,cost:0", "weights"), ($"runs={run}&weights=factRecall:abc", "weights"), ($"runs={run}&weights=factRecall:NaN", "weights"),
            ($"runs={run}&weights=factRecall:1e9", "weights"),
        })
        {
            using var response = await Host.Admin.GetAsync("api/evaluations/bakeoff?" + query);
            var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.True(ErrorFields(problem).SequenceEqual([field]), $"{query}: {problem.ToJsonString()}");
        }
        // 21 ids naming 20 distinct runs are 20 runs: refused only because those runs do not exist.
        var twenty = string.Join(',', Enumerable.Range(0, 20).Select(i => $"evr_{i}").Append("evr_0"));
        await ProblemAsync(await Host.Admin.GetAsync($"api/evaluations/bakeoff?runs={twenty}"), HttpStatusCode.NotFound);
        await ProblemAsync(await fixture.Outsider.GetAsync($"api/evaluations/bakeoff?runs={run}"), HttpStatusCode.NotFound);

        // The same run with good weights is ranked: the refusals above are about the input alone.
        var ranked = (await Host.Admin.GetFromJsonAsync<JsonObject>($"api/evaluations/bakeoff?runs={run}&weights=factRecall:1,cost:0"))!;
        var row = Assert.Single(ranked["rows"]!.AsArray());
        Assert.Equal(run, row!["run"]!.GetValue<string>());
        Assert.Equal(1.0, ranked["weights"]!["factRecall"]!.GetValue<double>());
    }
}
