using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Apps;
using Mulan.Tests.Evaluations;
using Mulan.Tests.Support;

namespace Mulan.Tests.Pilots;

/// <summary>
/// A pilot from kickoff to sign-off over two vendors (an OpenAI-compatible one and DashScope, each a fake server of its
/// own): evaluation set imported from CSV, bake-off, frozen scope, refused scope creep, an approved change, effort,
/// real traffic, acceptance from real runs, and a report whose every money figure is recomputed here from the usage
/// records and effort entries.
/// </summary>
public sealed class PilotEndToEndTests
{
    private const decimal UsdToCny = 7.1m;

    private static string Catalog(FakeVendorServer dashscope) => AppTestKit.Catalog
        .Replace("""
            "providers": [
            """, $$"""
            "providers": [
                { "name": "dashscope", "kind": "dashscope", "baseUrl": "{{dashscope.Origin.ToString().TrimEnd('/')}}", "apiKey": "{{dashscope.ApiKey}}" },
            """, StringComparison.Ordinal)
        .Replace("""{ "name": "chat", "deployments":""", """
            { "name": "qwen", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+chunks=8", "price": { "currency": "CNY", "input": 2, "output": 6 } } ] },
            { "name": "chat", "deployments":
            """, StringComparison.Ordinal);

    private static async Task<JsonObject> PostAsync(HttpClient client, string path, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text) as JsonObject ?? [];
    }

    private static string Id(JsonObject o) => o["id"]!.GetValue<string>();

    private static decimal Cny(JsonObject record) =>
        record["cost"]!["amount"]!.GetValue<decimal>() * (record["cost"]!["currency"]?.GetValue<string>() == "USD" ? UsdToCny : 1m);

    [Fact]
    public async Task A_pilot_over_two_vendors_is_scoped_evaluated_changed_costed_and_reported_from_its_ledger_alone()
    {
        await using var dashscope = await FakeVendorServer.StartAsync();
        await using var host = await MulanHost.StartAsync(Catalog(dashscope));
        var admin = host.Admin;
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var end = DateTime.UtcNow.AddDays(89).ToString("yyyy-MM-dd");

        // The customer's knowledge and the app the pilot delivers.
        // It embeds through a priced route, so that what retrieval costs is in the ledger too.
        var kb = Id(await PostAsync(admin, "api/knowledge-bases", new { name = "年假", embeddingModel = "embed" }));
        var doc = (await PostAsync(admin, $"api/knowledge-bases/{kb}/documents", new { title = "年假.md", text = "員工每年享有十五天帶薪年假。年假須提前一週申請。" },
            HttpStatusCode.Accepted))["documents"]![0]!["id"]!.GetValue<string>();
        await Mulan.Tests.Knowledge.KnowledgeApiTests.WaitForDocumentAsync(admin, kb, doc);
        var app = await AppTestKit.PublishAsync(host, new { slug = "hr", name = "HR", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "年假" } });

        // The evaluation set both sides agreed on, imported from the customer's spreadsheet export.
        const string csv = "question,expectedFacts,expectedSources,shouldRefuse\n年假有幾天？,十五天,年假,false\n年假要提前多久申請？,一週,年假,false\n";
        using var imported = await admin.PostAsync("api/evaluations/sets",
            EvaluationSetTests.Upload("faq.csv", Encoding.UTF8.GetBytes(csv), ("name", "HR FAQ"), ("workspace", "default")));
        Assert.True(imported.StatusCode == HttpStatusCode.Created, await imported.Content.ReadAsStringAsync());
        var set = Id((await imported.Content.ReadFromJsonAsync<JsonObject>())!);

        // Kickoff: the pilot, its key, its scope with acceptance criteria, frozen.
        var key = await PostAsync(admin, "api/keys", new { name = "pilot traffic" });
        var pilot = Id(await PostAsync(admin, "api/pilots", new
        {
            name = "HR <assistant>", customer = "Acme 股份", vendor = "Delivery Co", contractValue = new { amount = 300000, currency = "CNY" }, start = today, end,
            budget = new { amount = 0.000001m, currency = "CNY" }, keys = new[] { Id(key) }, alerts = new { thresholds = new[] { 0.8 } },
        }));
        var faq = Id(await PostAsync(admin, $"api/pilots/{pilot}/scope", new
        {
            title = "年假问答", priority = "must", app = "hr",
            criteria = new object[] { new { metric = "factRecall", threshold = 0.4, set }, new { metric = "latencyP95Ms", threshold = 60000, set } },
        }));
        var bar = Id(await PostAsync(admin, $"api/pilots/{pilot}/scope", new
        {
            title = "Perfect recall", priority = "should", app = "hr", criteria = new[] { new { metric = "factRecall", threshold = 0.99, set } },
        }));
        await PostAsync(admin, $"api/pilots/{pilot}/freeze", new { }, HttpStatusCode.OK);

        // Scope creep: refused without a change request, and nothing changed.
        await PostAsync(admin, $"api/pilots/{pilot}/scope", new { title = "Also payroll", priority = "should" }, HttpStatusCode.Conflict);
        using var edit = await admin.PutAsJsonAsync($"api/pilots/{pilot}/scope/{faq}", new { title = "年假问答 + 病假", priority = "must" });
        Assert.Equal(HttpStatusCode.Conflict, edit.StatusCode);
        Assert.Equal(2, (await admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!["scope"]!.AsArray().Count);

        // The same request as a change with its impact, approved by the customer side.
        var change = Id(await PostAsync(admin, $"api/pilots/{pilot}/changes", new
        {
            kind = "add", scope = new { title = "Also payroll", priority = "could" },
            impact = new { effortDays = 2, cost = new { amount = 4000, currency = "CNY" }, scheduleDays = 3 }, reason = "asked at week 3",
        }));
        await PostAsync(admin, $"api/pilots/{pilot}/changes/{change}/approve", new { by = "Acme PM" }, HttpStatusCode.OK);
        Assert.Equal(3, (await admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!["scope"]!.AsArray().Count);

        // Effort in two currencies: 1.5 × 2000.10 CNY + 0.5 × 300 USD × 7.1 = 3000.15 + 1065.
        await PostAsync(admin, $"api/pilots/{pilot}/effort", new { scopeItem = faq, role = "engineer", days = 1.5, dayRate = new { amount = 2000.10, currency = "CNY" }, date = today });
        await PostAsync(admin, $"api/pilots/{pilot}/effort", new { role = "pm", days = 0.5, dayRate = new { amount = 300, currency = "USD" }, date = today });
        const decimal effort = 3000.15m + 1065m;

        // Real traffic on the pilot's key, on both vendors and through the app.
        var client = host.Client(key["key"]!.GetValue<string>());
        foreach (var model in new[] { "chat", "qwen", "app:hr" })
        {
            using var chat = await client.PostAsJsonAsync("v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "年假有幾天？" } } });
            Assert.True(chat.IsSuccessStatusCode, await chat.Content.ReadAsStringAsync());
        }

        // Traffic that is not the pilot's: another key of the workspace.
        var outsider = host.Client((await PostAsync(admin, "api/keys", new { name = "other team" }))["key"]!.GetValue<string>());
        (await outsider.PostAsJsonAsync("v1/chat/completions", new { model = "qwen", messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();

        // The bake-off: the app, and the knowledge base answered by each vendor's route.
        var runs = new List<string>();
        foreach (var target in new object[] { new { app = "hr" }, new { knowledgeBase = kb, model = "chat-cite" }, new { knowledgeBase = kb, model = "qwen" } })
        {
            var run = await EvaluationRunTests.WaitAsync(admin, Id(await EvaluationRunTests.StartAsync(admin, new { set, target })));
            Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
            runs.Add(Id(run));
        }
        var appRun = (await admin.GetFromJsonAsync<JsonObject>($"api/evaluations/runs/{runs[0]}"))!;
        var ranked = (await admin.GetFromJsonAsync<JsonObject>($"api/evaluations/bakeoff?runs={string.Join(',', runs)}"))!;
        var rankedRuns = ranked["rows"]!.AsArray().Select(r => r!["run"]!.GetValue<string>()).ToList();
        Assert.Equal(runs.Order(), rankedRuns.Order());
        var scores = ranked["rows"]!.AsArray().Select(r => r!["score"]!.GetValue<double>()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);

        await PostAsync(admin, $"api/pilots/{pilot}/bakeoffs", new { title = "vendors", runs = new[] { "evr_nope" } }, HttpStatusCode.BadRequest);
        await PostAsync(admin, $"api/pilots/{pilot}/bakeoffs", new { title = "vendors", runs, weights = new { vibes = 1 } }, HttpStatusCode.BadRequest);
        var bakeoff = await PostAsync(admin, $"api/pilots/{pilot}/bakeoffs", new { title = "Which vendor for HR", runs });
        Assert.Equal(rankedRuns, bakeoff["rows"]!.AsArray().Select(r => r!["run"]!.GetValue<string>()));

        // The report, and every money figure in it recomputed from the ledger's records and the effort entries.
        var report = (await admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/report?format=json&lang=zh-Hans"))!;
        var all = await host.UsageRecordsAsync();
        var records = all.Where(r => r["app"]?.GetValue<string>() == app || r["key"]!.GetValue<string>() == Id(key)
            || r["evaluationRun"]?.GetValue<string>() is { } run && runs.Contains(run)).ToList();
        Assert.Contains(records, r => r["provider"]?.GetValue<string>() == "dashscope");
        Assert.Contains(records, r => r["provider"]?.GetValue<string>() == "fake");
        Assert.Contains(records, r => r["model"]!.GetValue<string>() == "embed" && r["app"]?.GetValue<string>() == app && r["cost"]!["amount"]!.GetValue<decimal>() > 0);
        Assert.Contains(all, r => !records.Contains(r) && r["key"]!.GetValue<string>() != Id(key) && r["model"]!.GetValue<string>() == "qwen");
        var spend = records.Sum(Cny);
        var summary = report["summary"]!;
        Assert.True(spend > 0);
        Assert.Equal(spend, summary["spend"]!.GetValue<decimal>());
        Assert.Equal(effort, summary["effort"]!.GetValue<decimal>());
        Assert.Equal(2m, summary["effortDays"]!.GetValue<decimal>());
        Assert.Equal(effort + spend, summary["costToDate"]!.GetValue<decimal>());
        Assert.Equal(300000m - effort - spend, summary["margin"]!.GetValue<decimal>());
        Assert.Equal(records.Count, summary["requests"]!.GetValue<long>());
        Assert.Equal((effort + spend) / 1, summary["burnRatePerDay"]!.GetValue<decimal>());
        Assert.Equal(effort + spend + (effort + spend) * 89, summary["forecast"]!.GetValue<decimal>());
        Assert.Equal(spend / 0.000001m, summary["budgetUsed"]!.GetValue<decimal>());
        foreach (var (field, by) in new (string, Func<JsonObject, string>)[]
        {
            ("byVendor", r => r["provider"]?.GetValue<string>() ?? ""),
            ("byApp", r => r["app"]?.GetValue<string>() ?? ""),
        })
        {
            var expected = records.GroupBy(by).Select(g => (g.Key, Amount: g.Sum(Cny))).Where(g => g.Amount != 0).OrderBy(g => g.Key).ToList();
            var shown = report["spend"]![field]!.AsArray().Select(s => (s!["name"]!.GetValue<string>(), s["amount"]!.GetValue<decimal>())).OrderBy(s => s.Item1).ToList();
            Assert.Equal(expected, shown);
        }
        Assert.Equal(spend, report["spend"]!["byDay"]!.AsArray().Sum(d => d!["spend"]!.GetValue<decimal>()));
        Assert.Equal(effort, report["effort"]!["byRole"]!.AsArray().Sum(d => d!["amount"]!.GetValue<decimal>()));
        Assert.Equal(3000.15m, report["effort"]!["byScopeItem"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == faq)!["amount"]!.GetValue<decimal>());

        // Acceptance from the app's latest run, with the run as evidence; the 0.99 bar is judged by the same figure.
        var factRecall = appRun["metrics"]!["factRecall"]!.GetValue<double>();
        var acceptance = report["acceptance"]!["items"]!.AsArray().ToDictionary(i => i!["itemId"]!.GetValue<string>(), i => i!);
        foreach (var (item, threshold) in new[] { (faq, 0.4), (bar, 0.99) })
        {
            var criterion = acceptance[item]["criteria"]![0]!;
            Assert.Equal(runs[0], criterion["runId"]!.GetValue<string>());
            Assert.Equal(factRecall, criterion["value"]!.GetValue<double>());
            Assert.Equal(factRecall >= threshold ? "passed" : "failed", criterion["status"]!.GetValue<string>());
        }
        Assert.Equal("passed", acceptance[faq]["criteria"]![1]!["status"]!.GetValue<string>());
        Assert.Equal("no_criteria", acceptance.Values.Single(i => i!["title"]!.GetValue<string>() == "Also payroll")["status"]!.GetValue<string>());

        // Scope history, the bake-off and the alert are in the report too.
        Assert.Equal(2, report["scope"]!["baseline"]!.AsArray().Count);
        Assert.Equal("approved", report["scope"]!["changes"]![0]!["status"]!.GetValue<string>());
        Assert.Equal(rankedRuns, report["bakeoffs"]![0]!["rows"]!.AsArray().Select(r => r!["run"]!.GetValue<string>()));
        Assert.Contains(report["alerts"]!.AsArray(), a => a!["kind"]!.GetValue<string>() == "budget");

        var md = await admin.GetStringAsync($"api/pilots/{pilot}/report?format=md&lang=zh-Hans");
        Assert.Contains("## 对比评测: Which vendor for HR", md);
        Assert.Contains("kb " + kb + " + qwen", md);
        Assert.Contains("HR &lt;assistant&gt;", md);
        Assert.Contains("| 交付投入 | 4065.15 CNY (2 人天) |", md);
        var html = await admin.GetStringAsync($"api/pilots/{pilot}/report?format=html&lang=zh-Hant");
        Assert.Contains("比較評測", html);
        Assert.Contains("HR &lt;assistant&gt;", html);
        Assert.DoesNotContain("<assistant>", html);
        Assert.DoesNotContain("src=\"http", html);

        // Both sides sign; each signature is the hash of the report it saw.
        foreach (var (side, name) in new[] { ("customer", "Li Wei"), ("vendor", "Chen") })
        {
            var signed = await PostAsync(admin, $"api/pilots/{pilot}/signoff", new { side, name });
            Assert.Equal(Mulan.Pilots.PilotReport.Sha256(signed["snapshot"]!.GetValue<string>()), signed["sha256"]!.GetValue<string>());
            Assert.Equal(spend, JsonNode.Parse(signed["snapshot"]!.GetValue<string>())!["summary"]!["spend"]!.GetValue<decimal>());
        }
        var final = (await admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/report?format=json"))!;
        Assert.Equal(["customer", "vendor"], final["signoffs"]!.AsArray().Select(s => s!["side"]!.GetValue<string>()));
    }
}
