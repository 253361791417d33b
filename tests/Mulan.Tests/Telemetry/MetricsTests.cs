using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mulan.Tests.Support;
using Xunit;

namespace Mulan.Tests.Telemetry;

/// <summary>Scrapes the real <c>/metrics</c> of a server after real requests. Other test hosts in this process record
/// into meters of the same name, so every figure is read on this test's own route names.</summary>
public sealed partial class MetricsTests
{
    private static string Catalog(string route) => $$"""
        {
          "providers": [ { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" } ],
          "models": [
            { "name": "{{route}}", "deployments": [ { "provider": "fake", "model": "fake-chat+chunks=5", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
            { "name": "{{route}}-broken", "deployments": [ { "provider": "fake", "model": "{{FailingModel(route)}}", "price": { "currency": "USD", "input": 1, "output": 1 } } ] }
          ]
        }
        """;

    [Fact]
    public async Task Metrics_AfterRequests_CountWhatTheLedgerBilled_WithoutKeysOrWorkspaces()
    {
        var route = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        await using var host = await MulanHost.StartAsync(Catalog(route));
        var secret = await host.CreateKeyAsync(new { name = "metrics-key-name" });
        using var client = host.Client(secret);
        for (var i = 0; i < 2; i++)
        {
            using var r = await client.PostAsJsonAsync("v1/chat/completions", new { model = route, messages = new[] { new { role = "user", content = "hello there" } } });
            r.EnsureSuccessStatusCode();
        }
        using (var s = await client.PostAsJsonAsync("v1/chat/completions", new { model = route, stream = true, messages = new[] { new { role = "user", content = "stream it" } } }))
        {
            s.EnsureSuccessStatusCode();
            _ = await s.Content.ReadAsStringAsync();
        }
        for (var i = 0; i < 3; i++)
        {
            using var broken = await client.PostAsJsonAsync("v1/chat/completions", new { model = route + "-broken", messages = new[] { new { role = "user", content = "x" } } });
            Assert.False(broken.IsSuccessStatusCode);
        }

        var records = (await host.UsageRecordsAsync()).Where(r => r["model"]!.GetValue<string>() == route).ToList();
        Assert.Equal(3, records.Count);
        var text = await ScrapeAsync(host.BaseUrl);

        Assert.Equal(3, Value(text, "mulan_gateway_requests_total", route, "mulan_status=\"ok\""));
        Assert.Equal(3, Value(text, "mulan_gateway_requests_total", route + "-broken", "mulan_status=\"upstream_error\""));
        Assert.Equal(records.Sum(r => r["inputTokens"]!.GetValue<long>()), Value(text, "gen_ai_client_token_usage_sum", route, "gen_ai_token_type=\"input\""));
        Assert.Equal(records.Sum(r => r["outputTokens"]!.GetValue<long>()), Value(text, "gen_ai_client_token_usage_sum", route, "gen_ai_token_type=\"output\""));
        var cost = records.Sum(r => r["cost"]!["amount"]!.GetValue<decimal>());
        Assert.True(cost > 0);
        Assert.Equal((double)cost, Value(text, "mulan_gateway_cost_total", route, "mulan_currency=\"USD\""), 9);
        Assert.Equal(3, Value(text, "gen_ai_client_operation_duration_seconds_count", route, "gen_ai_operation_name=\"chat\""));
        Assert.Equal(1, Value(text, "gen_ai_client_operation_time_to_first_chunk_seconds_count", route, ""));
        Assert.Contains("gen_ai_provider_name=\"openai\"", text, StringComparison.Ordinal);
        // The broken deployment failed three times in a row (FailuresBeforeCooldown): its breaker is open.
        var failing = Regex.Escape(FailingModel(route));
        Assert.True(Regex.IsMatch(text, @"mulan_gateway_breaker_state\{[^}]*gen_ai_response_model=""" + failing + @"""[^}]*\} 1"),
            string.Join('\n', text.Split('\n').Where(l => l.Contains("breaker", StringComparison.Ordinal))));
        Assert.Matches(@"mulan_queue_depth\{[^}]*mulan_queue=""ingestion""[^}]*mulan_state=""queued""[^}]*\} \d", text);
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);

        var keyId = records[0]["key"]!.GetValue<string>();
        var workspace = records[0]["workspace"]!.GetValue<string>();
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(keyId, text, StringComparison.Ordinal);
        Assert.DoesNotContain("metrics-key-name", text, StringComparison.Ordinal);
        Assert.DoesNotContain(workspace, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ByDefault_RefuseARelayedRequest()
    {
        await using var host = await MulanHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        using var relayed = new HttpRequestMessage(HttpMethod.Get, "metrics");
        relayed.Headers.Add("X-Forwarded-For", "203.0.113.7");
        using var refused = await http.SendAsync(relayed);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain("mulan_", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var direct = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
    }

    [Fact]
    public async Task Metrics_WithTokenAccess_NeedTheToken()
    {
        const string token = "scrape-token-0123456789abcdef";
        await using var host = await MulanHost.StartAsync(configure: b =>
        {
            b.Configuration["Telemetry:Metrics:Access"] = "Token";
            b.Configuration["Telemetry:Metrics:Token"] = token;
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        using var none = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token + "x");
        using var wrong = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        // The administrator key is not a scrape token either.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MulanHost.AdminKey);
        using var admin = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, admin.StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var ok = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("# TYPE", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_Off_AreNotServed()
    {
        await using var host = await MulanHost.StartAsync(configure: b => b.Configuration["Telemetry:Metrics:Access"] = "Off");
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        using var response = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TokenAccess_WithoutAToken_StopsTheStartNamingTheSetting()
    {
        var e = await Assert.ThrowsAsync<Mulan.Hosting.StartupException>(async () =>
            await MulanHost.StartAsync(configure: b => b.Configuration["Telemetry:Metrics:Access"] = "Token"));
        Assert.Contains("Telemetry:Metrics:Token", e.Message, StringComparison.Ordinal);
    }

    // Unique per test: every host in this process reports its breakers to every meter listener.
    private static string FailingModel(string route) => $"fake-chat+fail=500+chunks={(uint)route.GetHashCode() % 90_000 + 10}";

    internal static async Task<string> ScrapeAsync(Uri baseUrl)
    {
        using var http = new HttpClient { BaseAddress = baseUrl };
        using var response = await http.GetAsync("metrics");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the one series of <paramref name="metric"/> for the route that holds <paramref name="label"/>.</summary>
    private static double Value(string text, string metric, string route, string label)
    {
        var lines = text.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal)
            && l.Contains($"gen_ai_request_model=\"{route}\"", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, $"{metric} {route} {label}: {lines.Count} series\n{text}");
        var value = SeriesValue().Match(lines[0]).Groups[1].Value;
        return double.Parse(value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\} (\S+)")]
    private static partial Regex SeriesValue();
}
