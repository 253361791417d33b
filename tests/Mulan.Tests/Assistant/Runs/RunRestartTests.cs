using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Apps;
using Mulan.Assistant.Runs;
using Mulan.Tests.Apps;
using Mulan.Tests.Assistant.Tools;
using Mulan.Tests.Support;
using static Mulan.Tests.Assistant.AssistantTestKit;

namespace Mulan.Tests.Assistant.Runs;

/// <summary>Across a restart: a run waiting for approval waits on and can be approved; a run that was executing when the
/// server went away is failed, not run again (its last call may have happened).</summary>
public sealed class RunRestartTests
{
    [Fact]
    public async Task With_LedgerSync_Normal_runs_keep_their_steps_across_a_restart()
    {
        var first = await AssistantTestKit.StartAsync(b => b.Configuration["Storage:LedgerSync"] = "Normal");
        await AppTestKit.PublishAsync(first, new { slug = "bot", name = "bot", kind = "assistant", model = "agent" });
        var run = await WaitAsync(first.Admin, (await StartRunAsync(first.Admin, "bot", "hello"))["id"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        await first.StopKeepingDataAsync();
        await using var second = await MulanHost.StartAsync(Catalog, b => b.Configuration["Storage:LedgerSync"] = "Normal", first.Vendor, first.DataDirectory);
        var again = await GetRunAsync(second.Admin, run["id"]!.GetValue<string>());
        Assert.Equal(Steps(run).Count, Steps(again).Count);
        Assert.Equal("DONE: hello", again["output"]!.GetValue<string>());
    }

    [Fact]
    public async Task Waiting_runs_survive_a_restart_and_interrupted_runs_are_failed()
    {
        await using var orders = await OrdersService.StartAsync();
        var first = await AssistantTestKit.StartAsync();
        await OrdersSourceAsync(first, orders);
        await AppTestKit.PublishAsync(first, new { slug = "bot", name = "bot", kind = "assistant", model = "agent", tools = new[] { "orders" } });
        var waiting = (await WaitAsync(first.Admin, (await StartRunAsync(first.Admin, "bot", "CALL delete_customer {\"id\":5}"))["id"]!.GetValue<string>()));
        Assert.Equal("awaiting_approval", waiting["status"]!.GetValue<string>());
        // A run the server had started and not finished when it went away (as after kill -9): stored as running.
        var runs = first.App.Services.GetRequiredService<RunService>();
        var app = first.App.Services.GetRequiredService<AppDirectory>().Find(waiting["workspace"]!.GetValue<string>(), "bot")!;
        var interrupted = await runs.CreateAsync(app, runs.ServiceKey(app.App.WorkspaceId), RunOrigins.Api, "CALL getOrder {\"id\":\"1\"}", null, null, null, null, default);
        await first.StopKeepingDataAsync();

        await using var second = await MulanHost.StartAsync(Catalog, vendor: first.Vendor, dataDirectory: first.DataDirectory);
        var failed = await WaitAsync(second.Admin, interrupted.Id, "failed");
        Assert.Contains("server stopped", failed["error"]!.GetValue<string>());
        Assert.DoesNotContain("GET /orders/1", orders.Log);

        var stillWaiting = await GetRunAsync(second.Admin, waiting["id"]!.GetValue<string>());
        Assert.Equal("awaiting_approval", stillWaiting["status"]!.GetValue<string>());
        using (var approved = await second.Admin.PostAsJsonAsync($"api/runs/{waiting["id"]}/approve", new { }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }
        var done = await WaitAsync(second.Admin, waiting["id"]!.GetValue<string>(), "succeeded", "failed");
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        Assert.Single(orders.Log, l => l == "DELETE /customers/5");
        // One usage record per model call, before and after the restart.
        Assert.Equal(2, (await second.UsageRecordsAsync($"&run={waiting["id"]}")).Count);
    }
}
