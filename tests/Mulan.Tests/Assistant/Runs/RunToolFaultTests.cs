using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Assistant.Tools;
using Mulan.Tests.Support;
using static Mulan.Tests.Assistant.AssistantTestKit;

namespace Mulan.Tests.Assistant.Runs;

/// <summary>Runs over tools that misbehave (stall, huge, broken, malformed, invalid arguments), over an MCP server on
/// stdio, and across workspaces; and a run cancelled while it executes.</summary>
public sealed class RunToolFaultTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private OrdersService _orders = null!;

    public async Task InitializeAsync()
    {
        _orders = await OrdersService.StartAsync();
        var catalog = Catalog.Replace("""{ "name": "chat-cite", "deployments":""",
            """{ "name": "agent-slow", "deployments": [ { "provider": "fake", "model": "fake-chat+agent+firstbyte=3000", "price": { "currency": "USD", "input": 1.0, "output": 2.0 } } ] }, { "name": "chat-cite", "deployments":""",
            StringComparison.Ordinal);
        _host = await MulanHost.StartAsync(catalog);
        await OrdersSourceAsync(_host, _orders, 1);
        await ToolTestKit.CreateAsync(_host, new { name = "desk", mcp = McpToolTests.Stdio });
        await AppTestKit.PublishAsync(_host, new
        {
            slug = "bot", name = "bot", kind = "assistant", model = "agent", tools = new[] { "orders", "desk" }, assistant = new { maxSteps = 20 },
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _orders.DisposeAsync();
    }

    [Fact]
    public async Task Misbehaving_tools_fail_their_step_and_the_run_goes_on_within_its_limits()
    {
        var started = DateTime.UtcNow;
        var run = await WaitAsync(_host.Admin, (await StartRunAsync(_host.Admin, "bot",
            "CALL stall {} CALL huge {} CALL broken {} CALL malformed {} CALL getOrder {\"id\":5} CALL getOrder {\"nope\":1} CALL getOrder {\"id\":} CALL lookup_order {\"id\":\"A-1\"}"))["id"]!.GetValue<string>(),
            "succeeded", "failed");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "a stalled tool held the run");
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", Summary(run));
        var tools = Steps(run).Where(s => s["kind"]!.GetValue<string>() == "tool").ToDictionary(s => s["seq"]!.GetValue<int>());
        var byOrder = tools.Values.OrderBy(s => s["seq"]!.GetValue<int>()).ToList();
        Assert.Equal(8, byOrder.Count);
        Assert.Equal("failed", byOrder[0]["status"]!.GetValue<string>()); // stall: timed out
        Assert.Equal("failed", byOrder[1]["status"]!.GetValue<string>()); // 5 MB: over the cap
        Assert.Equal("failed", byOrder[2]["status"]!.GetValue<string>()); // HTTP 500
        Assert.Contains("500", byOrder[2]["error"]!.GetValue<string>());
        Assert.Equal("failed", byOrder[4]["status"]!.GetValue<string>()); // id must be a string
        Assert.Contains("invalid arguments", byOrder[5]["error"]!.GetValue<string>());
        Assert.Contains("not a JSON object", byOrder[6]["error"]!.GetValue<string>());
        Assert.Equal("ok", byOrder[7]["status"]!.GetValue<string>()); // the MCP server on stdio
        Assert.Contains("order A-1: shipped", byOrder[7]["output"]!.GetValue<string>());
        // Two model calls, two usage records: nothing charged twice for the failures.
        Assert.Equal(2, (await _host.UsageRecordsAsync($"&run={run["id"]}")).Count);
    }

    [Fact]
    public async Task An_mcp_tool_that_changes_something_waits_for_approval()
    {
        var run = await WaitAsync(_host.Admin, (await StartRunAsync(_host.Admin, "bot", "CALL create_ticket {\"subject\":\"refund\"}"))["id"]!.GetValue<string>());
        Assert.Equal("awaiting_approval", run["status"]!.GetValue<string>());
        Assert.Equal("desk", run["pendingApproval"]!["source"]!.GetValue<string>());
        using (var approved = await _host.Admin.PostAsJsonAsync($"api/runs/{run["id"]}/approve", new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }
        run = await WaitAsync(_host.Admin, run["id"]!.GetValue<string>(), "succeeded", "failed");
        Assert.Contains("ticket opened: refund", run["output"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_workspace_sees_no_run_and_cannot_touch_one()
    {
        var id = (await StartRunAsync(_host.Admin, "bot", "CALL create_ticket {\"subject\":\"x\"}"))["id"]!.GetValue<string>();
        await WaitAsync(_host.Admin, id);
        using (var ws = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" }))
        {
            Assert.Equal(HttpStatusCode.Created, ws.StatusCode);
        }
        using var other = _host.Client(await _host.CreateKeyAsync(new { name = "other", workspace = "other" }));
        foreach (var (method, path) in new[] { ("GET", $"api/runs/{id}"), ("GET", $"api/runs/{id}/events"), ("POST", $"api/runs/{id}/cancel"), ("POST", $"api/runs/{id}/approve"), ("POST", "api/apps/bot/runs") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? JsonContent.Create(new { input = "x" }) : null };
            using var response = await other.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
        }
        Assert.Empty((await other.GetFromJsonAsync<JsonObject>("api/runs"))!["runs"]!.AsArray());
        Assert.Equal("awaiting_approval", (await GetRunAsync(_host.Admin, id))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_app_naming_a_missing_tool_source_is_refused_and_a_deleted_workspace_takes_its_sources_and_runs()
    {
        using (var missing = await _host.Admin.PostAsJsonAsync("api/apps", new { slug = "ghost", name = "ghost", kind = "assistant", model = "agent", tools = new[] { "orders", "nope" } }))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            var problem = (await missing.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal(["$.tools[1]"], problem["paths"]!.AsArray().Select(p => p!.GetValue<string>()));
        }
        using (var ws = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "temp" }))
        {
            Assert.Equal(HttpStatusCode.Created, ws.StatusCode);
        }
        await ToolTestKit.CreateAsync(_host, new { name = "desk", workspace = "temp", mcp = McpToolTests.Stdio });
        using (var created = await _host.Admin.PostAsJsonAsync("api/apps", new { workspace = "temp", slug = "temp-bot", name = "t", kind = "assistant", model = "agent", tools = new[] { "desk" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var app = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            using var published = await _host.Admin.PostAsJsonAsync($"api/apps/{app}/publish", new { });
            var run = await WaitAsync(_host.Admin, (await StartRunAsync(_host.Admin, app, "CALL list_orders {}"))["id"]!.GetValue<string>());
            Assert.Equal("succeeded", run["status"]!.GetValue<string>());
            using var deleted = await _host.Admin.DeleteAsync("api/workspaces/temp?force=true");
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            using var gone = await _host.Admin.GetAsync($"api/runs/{run["id"]}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        var sources = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/tools"))!["tools"]!.AsArray();
        Assert.Equal(["desk", "orders"], sources.Select(s => s!["name"]!.GetValue<string>()).Order());
        Assert.All(sources, s => Assert.NotEqual("temp", s!["workspace"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_run_cancelled_while_its_model_call_is_in_flight_ends_cancelled()
    {
        await AppTestKit.PublishAsync(_host, new { slug = "slow", name = "slow", kind = "assistant", model = "agent-slow", tools = new[] { "orders" } });
        var id = (await StartRunAsync(_host.Admin, "slow", "CALL getOrder {\"id\":\"9\"}"))["id"]!.GetValue<string>();
        await Task.Delay(300);
        using (var cancelled = await _host.Admin.PostAsJsonAsync($"api/runs/{id}/cancel", new { }))
        {
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        }
        var run = await WaitAsync(_host.Admin, id, "cancelled");
        await Task.Delay(3500); // the abandoned model call would have answered by now
        run = await GetRunAsync(_host.Admin, id);
        Assert.Equal("cancelled", run["status"]!.GetValue<string>());
        Assert.DoesNotContain("GET /orders/9", _orders.Log);
        // The abandoned call still has exactly one usage record.
        Assert.Single(await _host.UsageRecordsAsync($"&run={id}"));
    }
}
