using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mulan.Pilots;
using Mulan.Tests.Support;

namespace Mulan.Tests.Pilots;

public sealed class PilotAlertWatcherTests
{
    [Fact]
    public async Task Alerts_are_raised_as_spend_grows_without_anyone_reading_the_ledger_and_only_once()
    {
        await using var host = await MulanHost.StartAsync(configure: b => b.Configuration["Pilots:AlertCheckSeconds"] = "0.1");
        var key = (await (await host.Admin.PostAsJsonAsync("api/keys", new { name = "pilot" })).Content.ReadFromJsonAsync<JsonObject>())!;
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        using var created = await host.Admin.PostAsJsonAsync("api/pilots", new
        {
            name = "p", customer = "c", contractValue = new { amount = 1000, currency = "CNY" }, start = today, end = today,
            budget = new { amount = 0.000001m, currency = "CNY" }, keys = new[] { key["id"]!.GetValue<string>() }, alerts = new { thresholds = new[] { 0.5, 1.0 } },
        });
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var store = host.App.Services.GetRequiredService<IPilotStore>();
        await Task.Delay(500);
        Assert.Empty(await store.AlertsAsync(id, default));

        using var client = host.Client(key["key"]!.GetValue<string>());
        (await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        IReadOnlyList<PilotAlert> alerts;
        while ((alerts = await store.AlertsAsync(id, default)).Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal([0.5m, 1.0m], alerts.Where(a => a.Kind == "budget").Select(a => a.Threshold).Order());
        // Further checks find the thresholds already crossed: nothing new.
        await Task.Delay(400);
        Assert.Equal(alerts.Count, (await store.AlertsAsync(id, default)).Count);
    }

    [Fact]
    public async Task A_check_interval_out_of_range_stops_the_server_at_start()
    {
        var e = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => MulanHost.StartAsync(configure: b => b.Configuration["Pilots:AlertCheckSeconds"] = "0"));
        Assert.Contains("Pilots:AlertCheckSeconds", e.Message);
    }
}
