using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Governance.Budgets;
using Mulan.Tests.Support;

namespace Mulan.Tests.Hosting.Problems;

/// <summary>
/// Every numeric parameter of every endpoint, with every kind of bad value (below, above, not finite, not whole, a
/// string, an object, an array, a boolean): 400 naming the parameter, and nothing forwarded, reserved, charged or
/// created. The tables are written from the OpenAI reference and docs/api.md, not from the code they check.
/// </summary>
public sealed class NumericParameterTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _key = "";
    private VirtualKey _budgeted = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _key = await _host.CreateKeyAsync(new { name = "budgeted", budget = new { amount = 1m, currency = "USD", period = "day" } });
        _budgeted = _host.App.Services.GetRequiredService<AccessService>().Authenticate(_key)!;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>(parameter, smallest, largest, whole numbers only) as OpenAI documents them; null bound = none below/above.</summary>
    private static readonly (string Name, double? Min, double? Max, bool Integer)[] ChatParameters =
    [
        ("temperature", 0, 2, false),
        ("top_p", 0, 1, false),
        ("n", 1, 128, true),
        ("max_tokens", 1, null, true),
        ("max_completion_tokens", 1, null, true),
        ("presence_penalty", -2, 2, false),
        ("frequency_penalty", -2, 2, false),
        ("seed", null, null, true),
        ("top_logprobs", 0, 20, true),
    ];

    private static readonly (string Name, double? Min, double? Max, bool Integer)[] EmbeddingParameters =
    [
        ("dimensions", 1, null, true),
    ];

    /// <summary>OpenAI's <c>/v1/audio/speech</c>: speed from 0.25 to 4.0.</summary>
    private static readonly (string Name, double? Min, double? Max, bool Integer)[] SpeechParameters =
    [
        ("speed", 0.25, 4.0, false),
    ];

    /// <summary>The bad values of one parameter, as JSON texts.</summary>
    private static IEnumerable<string> BadValues(double? min, double? max, bool integer)
    {
        if (min is { } lo)
        {
            yield return Json(lo - 1);
            yield return Json(lo - 0.001);
            yield return "-1e300";
        }
        if (max is { } hi)
        {
            yield return Json(hi + 0.001);
            yield return Json(hi + 1);
        }
        yield return "1e300";
        yield return "1e999";
        if (integer)
        {
            yield return Json((min ?? 0) + 1.5);
        }
        yield return "\"1\"";
        yield return "\"NaN\"";
        yield return "\"Infinity\"";
        yield return "{}";
        yield return "[1]";
        yield return "true";
    }

    private static string Json(double d) => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Every_bad_numeric_v1_parameter_is_400_naming_it_before_anything_is_spent()
    {
        var cases = new List<(string Path, string Param, string Body)>();
        foreach (var (name, min, max, integer) in ChatParameters)
        {
            cases.AddRange(BadValues(min, max, integer).Select(v => ("v1/chat/completions", name,
                $$"""{"model":"chat","messages":[{"role":"user","content":"hi"}],"{{name}}":{{v}}}""")));
            // The same value in a stream: refused before the stream starts.
            cases.Add(("v1/chat/completions", name, $$"""{"model":"chat","stream":true,"messages":[{"role":"user","content":"hi"}],"{{name}}":"x"}"""));
        }
        foreach (var (name, min, max, integer) in EmbeddingParameters)
        {
            cases.AddRange(BadValues(min, max, integer).Select(v => ("v1/embeddings", name, $$"""{"model":"embed","input":"hi","{{name}}":{{v}}}""")));
        }
        foreach (var (name, min, max, integer) in SpeechParameters)
        {
            cases.AddRange(BadValues(min, max, integer).Select(v => ("v1/audio/speech", name, $$"""{"model":"chat","input":"hi","voice":"alloy","{{name}}":{{v}}}""")));
        }
        foreach (var bias in new[] { "101", "-101", "100.5", "1e300", "\"5\"", "{}", "null" })
        {
            cases.Add(("v1/chat/completions", "logit_bias", """{"model":"chat","messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":""" + bias + "}}"));
        }
        foreach (var bias in new[] { """{"not-a-token":1}""", "[1]", "5", "\"x\"" })
        {
            cases.Add(("v1/chat/completions", "logit_bias", $$"""{"model":"chat","messages":[{"role":"user","content":"hi"}],"logit_bias":{{bias}}}"""));
        }

        using var http = _host.Client(_key);
        var failures = new List<string>();
        foreach (var (path, param, body) in cases)
        {
            using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            var error = JsonNode.Parse(text)?["error"];
            if (response.StatusCode != HttpStatusCode.BadRequest || error?["param"]?.GetValue<string>() != param
                || error["type"]?.GetValue<string>() != "invalid_request_error" || !error["message"]!.GetValue<string>().Contains(param, StringComparison.Ordinal))
            {
                failures.Add($"{path} {body} → {(int)response.StatusCode} {text}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} not refused as expected:\n" + string.Join("\n", failures.Take(20)));

        Assert.Empty(_host.Vendor.Requests);
        var records = await _host.UsageRecordsAsync();
        Assert.Equal(cases.Count, records.Count);
        Assert.All(records, r =>
        {
            Assert.Equal("rejected", r["status"]!.GetValue<string>());
            Assert.Equal(0m, r["cost"]!["amount"]!.GetValue<decimal>());
        });
        await AssertBudgetUntouchedAsync();
    }

    [Fact]
    public async Task Valid_values_at_the_edges_of_each_range_are_forwarded()
    {
        using var http = _host.Client(_key);
        foreach (var (name, min, max, _) in ChatParameters)
        {
            foreach (var value in new[] { min, max }.OfType<double>())
            {
                using var response = await http.PostAsJsonAsync("v1/chat/completions", new JsonObject
                {
                    ["model"] = "chat", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }), [name] = value,
                });
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}={value}: {await response.Content.ReadAsStringAsync()}");
            }
        }
        using var nulls = await http.PostAsync("v1/chat/completions", new StringContent(
            """{"model":"chat","messages":[{"role":"user","content":"hi"}],"temperature":null,"max_tokens":null,"logit_bias":{"50256":-100}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, nulls.StatusCode);
    }

    private async Task AssertBudgetUntouchedAsync()
    {
        var guard = _host.App.Services.GetRequiredService<BudgetGuard>();
        var (held, standing) = await guard.TryReserveAsync(BudgetGuard.Scope.Of(_budgeted), _budgeted.Budget!, 0m, (amount, _) => amount, CancellationToken.None);
        await guard.SettleAsync(held!, 0m);
        Assert.Equal(0m, standing.Spent);
        Assert.Equal(0m, standing.Reserved);
    }

    /// <summary>An /api field and its bad values; <c>{V}</c> in the body or query is replaced by each value.</summary>
    private sealed record ApiCase(string Method, string Path, string? Body, string Field, string[] Values);

    private static readonly string[] CountValues = ["0", "-1", "1.5", "1e300", "99999999999", "\"5\"", "{}", "[1]", "true"];
    private static readonly string[] QueryCountValues = ["0", "-1", "1.5", "abc", "99999999999", "1e3", ""];
    private static readonly string[] QueryDateValues = ["yesterday", "2026-13-45", "1e9"];

    private static readonly ApiCase[] ApiCases =
    [
        new("POST", "api/keys", """{"name":"k","rpm":{V}}""", "rpm", [.. CountValues, "1000001"]),
        new("POST", "api/keys", """{"name":"k","tpm":{V}}""", "tpm", [.. CountValues, "1000000001"]),
        new("POST", "api/keys", """{"name":"k","budget":{"amount":{V},"currency":"USD","period":"day"}}""", "budget.amount",
            ["0", "-1", "-0.01", "1000000001", "1e30", "\"1\"", "{}", "[1]", "true"]),
        new("POST", "api/keys", """{"name":"k","expiresAt":{V}}""", "expiresAt", ["\"2000-01-01T00:00:00Z\"", "\"2300-01-01T00:00:00Z\"", "\"soon\"", "5", "{}", "true"]),
        new("PATCH", "api/keys/{KEY}", """{"rpm":{V}}""", "rpm", [.. CountValues, "1000001"]),
        new("PATCH", "api/keys/{KEY}", """{"tpm":{V}}""", "tpm", CountValues),
        new("PATCH", "api/keys/{KEY}", """{"budget":{"amount":{V},"currency":"USD","period":"day"}}""", "budget.amount", ["0", "-1", "1e30", "\"1\"", "{}"]),
        new("PATCH", "api/keys/{KEY}", """{"expiresAt":{V}}""", "expiresAt", ["\"2000-01-01T00:00:00Z\"", "\"2300-01-01T00:00:00Z\"", "5", "{}"]),
        new("POST", "api/workspaces", """{"name":"w","rpm":{V}}""", "rpm", CountValues),
        new("POST", "api/tokens", """{"name":"t","expiresInDays":{V}}""", "expiresInDays", [.. CountValues, "366"]),
        new("POST", "api/workspaces", """{"name":"w","tpm":{V}}""", "tpm", CountValues),
        new("POST", "api/workspaces", """{"name":"w","budget":{"amount":{V},"currency":"CNY","period":"month"}}""", "budget.amount", ["0", "-5", "1e30", "\"1\""]),
        new("PUT", "api/workspaces/default/limits", """{"rpm":{V}}""", "rpm", CountValues),
        new("PUT", "api/workspaces/default/limits", """{"tpm":{V}}""", "tpm", CountValues),
        new("PUT", "api/workspaces/default/limits", """{"budget":{"amount":{V},"currency":"USD","period":"total"}}""", "budget.amount", ["0", "-1", "1e30", "{}"]),
        new("GET", "api/usage?page={V}", null, "page", [.. QueryCountValues, "1000001"]),
        new("GET", "api/usage?pageSize={V}", null, "pageSize", [.. QueryCountValues, "1001"]),
        new("GET", "api/usage?from={V}", null, "from", QueryDateValues),
        new("GET", "api/usage?to={V}", null, "to", QueryDateValues),
        new("GET", "api/audit?page={V}", null, "page", QueryCountValues),
        new("GET", "api/audit?pageSize={V}", null, "pageSize", [.. QueryCountValues, "1001"]),
        new("GET", "api/audit?from={V}", null, "from", QueryDateValues),
        new("GET", "api/workspaces/default/usage?pageSize={V}", null, "pageSize", QueryCountValues),
        new("GET", "api/workspaces/default/usage?from={V}", null, "from", QueryDateValues),
        new("GET", "api/workspaces/default/audit?page={V}", null, "page", QueryCountValues),
        new("GET", "api/knowledge-bases/{KB}/documents?page={V}", null, "page", QueryCountValues),
        new("GET", "api/knowledge-bases/{KB}/documents?pageSize={V}", null, "pageSize", [.. QueryCountValues, "1001"]),
        new("POST", "api/knowledge-bases/{KB}/search", """{"query":"q","topK":{V}}""", "topK", [.. CountValues, "101"]),
        new("POST", "api/knowledge-bases/{KB}/ask", """{"question":"q","topK":{V}}""", "topK", [.. CountValues, "101"]),
        new("POST", "api/models", """{"name":"m","deployments":[{"provider":"fake","model":"x","weight":{V},"price":{"currency":"USD","input":1,"output":1}}]}""",
            "deployments[0].weight", ["0", "-1", "1001", "1.5", "1e300", "\"1\"", "{}"]),
        new("POST", "api/models", """{"name":"m","deployments":[{"provider":"fake","model":"x","price":{"currency":"USD","input":{V},"output":1}}]}""",
            "deployments[0].price.input", ["-1", "1000001", "1e300", "\"1\"", "{}"]),
        new("POST", "api/models", """{"name":"m","deployments":[{"provider":"fake","model":"x","price":{"currency":"USD","input":1,"output":{V}}}]}""",
            "deployments[0].price.output", ["-1", "1e300", "true"]),
        new("POST", "api/models", """{"name":"m","deployments":[{"provider":"fake","model":"x","maxRetries":{V},"price":{"currency":"USD","input":1,"output":1}}]}""",
            "deployments[0].maxRetries", ["-1", "6", "1.5", "\"1\""]),
        new("POST", "api/models", """{"name":"m","deployments":[{"provider":"fake","model":"x","timeouts":{"connectSeconds":{V}},"price":{"currency":"USD","input":1,"output":1}}]}""",
            "deployments[0].timeouts.connectSeconds", ["0", "-1", "121", "1e300", "\"1\""]),
        new("POST", "api/models", """{"name":"m","cache":{"ttlSeconds":{V}},"deployments":[{"provider":"fake","model":"x","price":{"currency":"USD","input":1,"output":1}}]}""",
            "cache.ttlSeconds", ["0", "-1", "604801", "1.5", "\"60\""]),
        new("POST", "api/exchange-rates", """{"from":"USD","to":"CNY","rate":{V}}""", "rate", ["0", "-7.1", "1000001", "1e30", "\"7\"", "{}", "true"]),
        new("POST", "api/exchange-rates", """{"from":"USD","to":"CNY","rate":7,"effectiveFrom":{V}}""", "effectiveFrom", ["\"someday\"", "5", "{}"]),
        new("POST", "api/reconciliation?provider=fake&tolerance={V}", "date,model,amount\n", "tolerance", ["-1", "abc", "1e3"]),
        new("POST", "api/apps", """{"slug":"n","name":"N","kind":"knowledge-qa","knowledgeBases":["numbers"],"retrieval":{"topK":{V}}}""", "retrieval.topK", [.. CountValues, "51"]),
        new("POST", "api/apps", """{"slug":"n","name":"N","kind":"knowledge-qa","knowledgeBases":["numbers"],"retrieval":{"minScore":{V}}}""", "retrieval.minScore", ["-1", "1e300", "\"1\"", "{}", "true"]),
        new("POST", "api/apps", """{"slug":"n","name":"N","kind":"knowledge-qa","knowledgeBases":["numbers"],"limits":{"endUserRpm":{V}}}""", "limits.endUserRpm", CountValues),
        new("POST", "api/apps", """{"slug":"n","name":"N","kind":"knowledge-qa","knowledgeBases":["numbers"],"budget":{"amount":{V},"currency":"USD","period":"day"}}""", "budget.amount", ["0", "-1", "1e30", "\"1\"", "{}"]),
        new("POST", "api/apps", """{"slug":"n","name":"N","kind":"knowledge-qa","knowledgeBases":["numbers"],"conversation":{"historyTokens":{V}}}""", "conversation.historyTokens", ["-1", "100001", "1.5", "\"1\"", "{}"]),
        new("POST", "api/apps", """{"slug":"n","name":"N","kind":"copywriter","model":"chat","copywriter":{"variants":{V}}}""", "copywriter.variants", [.. CountValues, "6"]),
        new("PUT", "api/apps/{APP}", """{"slug":"numbers","name":"N","kind":"knowledge-qa","knowledgeBases":["numbers"],"guardrails":{"maxAnswerCharacters":{V}}}""", "guardrails.maxAnswerCharacters", CountValues),
        new("POST", "api/apps/{APP}/publish", """{"version":{V}}""", "version", CountValues),
        new("POST", "api/apps/{APP}/rollback", """{"version":{V}}""", "version", CountValues),
        new("GET", "api/apps/{APP}/diff?to=1&from={V}", null, "from", QueryCountValues),
        new("GET", "api/apps/{APP}/diff?from=1&to={V}", null, "to", QueryCountValues),
        new("GET", "api/runs?limit={V}", null, "limit", [.. QueryCountValues, "201"]),
        new("GET", "api/apps/{APP}/runs?limit={V}", null, "limit", [.. QueryCountValues, "201"]),
        new("GET", "api/apps/{APP}/export?version={V}", null, "version", QueryCountValues),
        new("GET", "api/apps/{APP}/conversations?page={V}", null, "page", QueryCountValues),
        new("GET", "api/apps/{APP}/conversations?pageSize={V}", null, "pageSize", [.. QueryCountValues, "201"]),
        new("GET", "api/feedback?limit={V}", null, "limit", QueryCountValues),
        new("POST", "api/tools", """{"name":"t","openapi":"openapi: 3.0.3","timeoutSeconds":{V}}""", "timeoutSeconds", [.. CountValues, "301"]),
        new("POST", "api/tools", """{"name":"t","mcp":{"url":"http://127.0.0.1:1/mcp"},"timeoutSeconds":{V}}""", "timeoutSeconds", ["0", "1e300", "\"30\""]),
        new("GET", "api/evaluations/runs?limit={V}", null, "limit", [.. QueryCountValues, "201"]),
        new("GET", "api/evaluations/sets/{SET}?version={V}", null, "version", QueryCountValues),
        new("POST", "api/evaluations/runs", """{"set":"{SET}","target":{"model":"chat"},"concurrency":{V}}""", "concurrency", [.. CountValues, "17"]),
        new("POST", "api/evaluations/runs", """{"set":"{SET}","target":{"model":"chat"},"maxCost":{V}}""", "maxCost", ["0", "-1", "-0.01", "1000000001", "1e30", "\"1\"", "{}", "[1]", "true"]),
        new("POST", "api/evaluations/runs", """{"set":"{SET}","target":{"model":"chat"},"version":{V}}""", "version", CountValues),
        new("GET", "api/evaluations/bakeoff?runs=evr_x&weights=factRecall:{V}", null, "weights", ["-1", "1001", "abc", "NaN", "Infinity", "1e999", ""]),
        new("POST", "api/pilots", """{"name":"p","customer":"c","contractValue":{"amount":{V},"currency":"CNY"},"start":"2026-01-01","end":"2026-02-01"}""",
            "contractValue.amount", ["-1", "1000000000001", "1e30", "\"1\"", "{}", "[1]", "true"]),
        new("POST", "api/pilots", """{"name":"p","customer":"c","contractValue":{"amount":1,"currency":"CNY"},"start":"2026-01-01","end":"2026-02-01","budget":{"amount":{V},"currency":"CNY"}}""",
            "budget.amount", ["-1", "1e30", "\"1\"", "{}"]),
        new("POST", "api/pilots", """{"name":"p","customer":"c","contractValue":{"amount":1,"currency":"CNY"},"start":"2026-01-01","end":"2026-02-01","alerts":{"thresholds":[{V}]}}""",
            "alerts.thresholds[0]", ["0", "-0.5", "10.5", "1e300", "\"0.8\"", "{}", "true"]),
        new("PATCH", "api/pilots/{PILOT}", """{"budget":{"amount":{V},"currency":"CNY"}}""", "budget.amount", ["-1", "1e30", "\"1\"", "{}"]),
        new("PATCH", "api/pilots/{PILOT}", """{"alerts":{"thresholds":[{V}]}}""", "alerts.thresholds[0]", ["0", "-1", "11", "\"1\""]),
        new("POST", "api/pilots/{PILOT}/effort", """{"role":"dev","days":{V},"dayRate":{"amount":100,"currency":"CNY"},"date":"2026-01-05"}""", "days",
            ["-1", "10001", "1e300", "\"1\"", "{}", "[1]", "true"]),
        new("POST", "api/pilots/{PILOT}/effort", """{"role":"dev","days":1,"dayRate":{"amount":{V},"currency":"CNY"},"date":"2026-01-05"}""", "dayRate.amount",
            ["-1", "1e30", "\"1\"", "{}"]),
        new("POST", "api/pilots/{PILOT}/scope", """{"title":"t","priority":"must","criteria":[{"metric":"factRecall","threshold":{V},"set":"{SET}"}]}""", "criteria[0].threshold",
            ["-1", "1e30", "\"1\"", "{}", "true"]),
        new("POST", "api/pilots/{PILOT}/changes", """{"kind":"add","scope":{"title":"t","priority":"must"},"impact":{"effortDays":{V},"cost":{"amount":1,"currency":"CNY"},"scheduleDays":1},"reason":"r"}""",
            "impact.effortDays", ["-1", "100001", "1e300", "\"1\"", "{}"]),
        new("POST", "api/pilots/{PILOT}/changes", """{"kind":"add","scope":{"title":"t","priority":"must"},"impact":{"effortDays":1,"cost":{"amount":1,"currency":"CNY"},"scheduleDays":{V}},"reason":"r"}""",
            "impact.scheduleDays", ["1.5", "-3651", "3651", "\"1\"", "{}"]),
    ];

    [Fact]
    public async Task Every_bad_numeric_api_field_is_a_validation_problem_naming_it_and_changes_nothing()
    {
        var kb = (await (await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "numbers" })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var key = (await (await _host.Admin.PostAsJsonAsync("api/keys", new { name = "numbers" })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var app = (await (await _host.Admin.PostAsJsonAsync("api/apps", new { slug = "numbers", name = "N", kind = "knowledge-qa", knowledgeBases = new[] { "numbers" } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var set = (await (await _host.Admin.PostAsJsonAsync("api/evaluations/sets", new { name = "numbers", workspace = "default", items = new[] { new { question = "q" } } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var pilot = (await (await _host.Admin.PostAsJsonAsync("api/pilots", new
        {
            name = "numbers", customer = "c", contractValue = new { amount = 1, currency = "CNY" }, start = "2026-01-01", end = "2026-02-01",
        })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var before = await StateAsync(pilot);
        var failures = new List<string>();
        var count = 0;
        foreach (var c in ApiCases)
        {
            foreach (var value in c.Values)
            {
                count++;
                var path = c.Path.Replace("{KB}", kb, StringComparison.Ordinal).Replace("{KEY}", key, StringComparison.Ordinal).Replace("{APP}", app, StringComparison.Ordinal).Replace("{SET}", set, StringComparison.Ordinal).Replace("{PILOT}", pilot, StringComparison.Ordinal).Replace("{V}", Uri.EscapeDataString(value), StringComparison.Ordinal);
                var body = c.Body?.Replace("{SET}", set, StringComparison.Ordinal).Replace("{V}", value, StringComparison.Ordinal);
                using var request = new HttpRequestMessage(new HttpMethod(c.Method), path);
                if (c.Body is not null)
                {
                    request.Content = new StringContent(body!, Encoding.UTF8,
                        c.Path.StartsWith("api/reconciliation", StringComparison.Ordinal) ? "text/csv" : "application/json");
                }
                using var response = await _host.Admin.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json" ? JsonNode.Parse(text) : null;
                var errors = problem?["errors"] as JsonObject;
                if (response.StatusCode != HttpStatusCode.BadRequest || errors is null
                    || !errors.Any(e => e.Key == c.Field || e.Key.EndsWith("." + c.Field, StringComparison.Ordinal))
                    || problem?["detail"]?.GetValue<string>()?.Contains(c.Field, StringComparison.Ordinal) != true)
                {
                    failures.Add($"{c.Method} {path} {body} → {(int)response.StatusCode} {text}");
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} not refused as expected:\n" + string.Join("\n", failures.Take(25)));
        Assert.Equal(before, await StateAsync(pilot));
        Assert.Empty(_host.Vendor.Requests);
    }

    // What a refused request must not change: keys, workspaces, models, limits, the audit log, the ledger.
    private async Task<string> StateAsync(string pilot)
    {
        var parts = new[] { "api/keys", "api/workspaces", "api/models", "api/audit?pageSize=1000", "api/usage?pageSize=1000", "api/apps", "api/tools", "api/evaluations/sets",
            "api/evaluations/runs", "api/pilots", "api/pilots/{PILOT}", "api/pilots/{PILOT}/changes", "api/pilots/{PILOT}/ledger" };
        var sb = new StringBuilder();
        foreach (var p in parts)
        {
            sb.Append(p).Append(": ").AppendLine(await _host.Admin.GetStringAsync(p.Replace("{PILOT}", pilot, StringComparison.Ordinal)));
        }
        return sb.ToString();
    }

    /// <summary>The console's pages (the HTML shell for each client route and the embedded assets): no parameters at all.</summary>
    private static readonly string[] ConsolePages =
        [.. new[] { "approvals", "apps", "audit", "evaluations", "invite", "keys", "knowledge", "overview", "pilots", "providers", "runs", "schedules", "settings", "signin", "usage" }
            .SelectMany(p => new[] { $"/{p}", $"/{p}/{{**rest}}" }).Append("/").Append("/assets/{**path}")
            .SelectMany(p => new[] { $"GET {p}", $"HEAD {p}" })];

    /// <summary>Endpoints and whether their numeric inputs are covered above; a new endpoint must be listed here.</summary>
    private static readonly HashSet<string> Endpoints =
    [
        .. ConsolePages,
        // Covered by the tables above.
        "POST /v1/chat/completions", "POST /v1/embeddings", "POST /v1/audio/speech",
        // Multipart: transcription's temperature and the files' sizes are refused in Speech/SpeechGatewayTests.
        "POST /v1/audio/transcriptions", "POST /v1/ocr",
        "POST /api/keys", "POST /api/workspaces", "PUT /api/workspaces/{workspace}/limits", "GET /api/usage", "GET /api/audit",
        "GET /api/workspaces/{workspace}/usage", "GET /api/workspaces/{workspace}/audit", "POST /api/knowledge-bases/{id}/search",
        "POST /api/knowledge-bases/{id}/ask", "GET /api/knowledge-bases/{id}/documents", "POST /api/models", "POST /api/reconciliation", "PATCH /api/keys/{id}", "POST /api/exchange-rates",
        // No numeric input (any id in the path is text).
        "GET /healthz", "GET /metrics", "GET /openapi/{documentName}.json", "GET /reference/{documentName?}", "GET /reference/favicon.svg",
        "GET /reference/scalar.aspnetcore.js", "GET /reference/scalar.js", "GET /api/usage/summary", "GET /api/workspaces/{workspace}/usage/summary", "GET /v1/models", "GET /v1/models/{id}", "GET /api/keys", "DELETE /api/keys/{id}", "GET /api/workspaces",
        "PUT /api/workspaces/{workspace}/pii", "GET /api/workspaces/{workspace}/limits", "GET /api/workspaces/{workspace}/export", "POST /api/providers", "GET /api/providers",
        "DELETE /api/providers/{name}", "GET /api/models", "DELETE /api/models/{name}", "GET /api/deployments", "GET /api/exchange-rates",
        "POST /api/knowledge-bases/", "GET /api/knowledge-bases/", "GET /api/knowledge-bases/{id}", "PATCH /api/knowledge-bases/{id}",
        "POST /api/knowledge-bases/{id}/documents", "GET /api/knowledge-bases/{id}/documents/{docId}",
        "DELETE /api/knowledge-bases/{id}", "DELETE /api/knowledge-bases/{id}/documents/{docId}", "PATCH /api/knowledge-bases/{id}/documents/{docId}",
        "POST /api/keys/{id}/rotate", "PATCH /api/workspaces/{id}", "DELETE /api/workspaces/{id}", "POST /api/models/{name}/test",
        // Apps: numeric fields covered above; the rest take text.
        "POST /api/apps/", "PUT /api/apps/{id}", "POST /api/apps/{id}/publish", "POST /api/apps/{id}/rollback", "GET /api/apps/{id}/diff",
        "GET /api/apps/{id}/conversations", "GET /api/feedback/", "GET /api/apps/", "GET /api/apps/{id}", "DELETE /api/apps/{id}", "GET /api/apps/{id}/versions",
        "GET /api/apps/{id}/versions/{version:int}", "GET /api/apps/{id}/conversations/{cid}", "DELETE /api/apps/{id}/conversations/{cid}",
        "POST /api/feedback/", "POST /v1/feedback",
        "POST /api/compliance/check", "GET /api/compliance/rules", "PUT /api/compliance/rules", "GET /api/compliance/channels",
        // Packages and templates: export's version is covered above; import and the templates take text (and a zip).
        "GET /api/apps/{id}/export", "POST /api/apps/import", "GET /api/app-templates/", "GET /api/app-templates/{name}",
        // Assistant runs: the lists' limit is covered above; the rest take text.
        "GET /api/runs/", "GET /api/apps/{id}/runs", "POST /api/apps/{id}/runs", "GET /api/runs/{id}", "GET /api/runs/{id}/events", "POST /api/runs/{id}/approve",
        "POST /api/runs/{id}/reject", "POST /api/runs/{id}/cancel", "GET /api/schedules/",
        // A price change's numbers are refused in Governance/PriceVersionTests (the same checks as a deployment's price).
        "POST /api/models/{name}/prices",
        // MCP (JSON-RPC, not a JSON API body): the numeric tool argument, search's top_k, is refused as a tool error;
        // its bad values are covered by Assistant/Mcp/McpServerTests.
        "POST /mcp/",
        // Tool sources: timeoutSeconds covered above; the rest take text.
        "POST /api/tools/", "GET /api/tools/", "GET /api/tools/{id}", "DELETE /api/tools/{id}",
        // Evaluations and pilots: the runs list's limit, a set's version, a run's concurrency, maxCost and version, the bake-off's
        // weights, and pilots' amounts, thresholds, days and impacts are covered above; the rest take text (the bake-off's runs,
        // compare's run ids and a report's format and language are refused in Evaluations/EvaluationApiTests and Pilots/PilotLedgerApiTests).
        "DELETE /api/evaluations/sets/{id}", "GET /api/evaluations/bakeoff", "GET /api/evaluations/compare", "GET /api/evaluations/runs",
        "GET /api/evaluations/runs/{id}", "GET /api/evaluations/sets", "GET /api/evaluations/sets/{id}", "POST /api/evaluations/runs",
        "POST /api/evaluations/runs/{id}/cancel", "POST /api/evaluations/sets", "POST /api/evaluations/sets/{id}/from-feedback",
        "POST /api/evaluations/sets/{id}/items", "PUT /api/evaluations/sets/{id}",
        "DELETE /api/pilots/{id}/scope/{itemId}", "GET /api/pilots/", "GET /api/pilots/{id}", "GET /api/pilots/{id}/changes", "GET /api/pilots/{id}/ledger",
        "GET /api/pilots/{id}/report", "GET /api/pilots/{id}/signoff", "PATCH /api/pilots/{id}", "POST /api/pilots/", "POST /api/pilots/{id}/changes",
        "POST /api/pilots/{id}/changes/{cid}/approve", "POST /api/pilots/{id}/changes/{cid}/reject", "POST /api/pilots/{id}/effort",
        // People: the token's expiresInDays is covered above; the rest take text.
        "POST /api/tokens/", "GET /api/tokens/", "DELETE /api/tokens/{id}", "POST /api/users/", "GET /api/users/", "PATCH /api/users/{id}", "DELETE /api/users/{id}",
        "POST /api/auth/login", "POST /api/auth/accept", "GET /api/auth/me", "POST /api/auth/logout",
        // Chat page: version, page, a passage's id and a share's expiresInDays are refused in Console/Chat/ChatNumericInputTests; the rest take text.
        "GET /chat/{slug}", "GET /widget.js", "GET /api/chat/{slug}/", "POST /api/chat/{slug}/messages", "GET /api/chat/{slug}/conversations",
        "GET /api/chat/{slug}/conversations/{id}", "POST /api/chat/{slug}/feedback", "GET /api/chat/{slug}/passages/{id}",
        "POST /api/apps/{id}/shares/", "GET /api/apps/{id}/shares/", "DELETE /api/apps/{id}/shares/{shareId}",
        "POST /api/pilots/{id}/freeze", "POST /api/pilots/{id}/bakeoffs", "GET /api/pilots/{id}/bakeoffs", "DELETE /api/pilots/{id}/bakeoffs/{bakeoffId}", "POST /api/pilots/{id}/scope", "POST /api/pilots/{id}/signoff", "PUT /api/pilots/{id}/scope/{itemId}",
    ];

    [Fact]
    public void Every_mapped_endpoint_is_listed_with_its_numeric_parameters()
    {
        var mapped = _host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m} /{e.RoutePattern.RawText!.TrimStart('/')}"))
            .ToHashSet();
        var unlisted = mapped.Except(Endpoints).Order().ToList();
        Assert.True(unlisted.Count == 0, "Add these endpoints to the tables of NumericParameterTests (with their numeric parameters, if any): " + string.Join(", ", unlisted));
    }
}
