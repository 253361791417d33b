using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mulan.Assistant.Schedules;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;
using static Mulan.Tests.Assistant.AssistantTestKit;

namespace Mulan.Tests.Assistant.Schedules;

/// <summary>Schedule semantics with a controllable clock: the runner is ticked at chosen instants (the server's own sweep
/// is set to an hour so that it stays out of the way).</summary>
public sealed class ScheduleTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private ScheduleRunner _runner = null!;

    // Monday 7 December 2026, 08:00 in Shanghai (UTC+8).
    private static readonly DateTimeOffset Monday0800 = new(2026, 12, 7, 8, 0, 0, TimeSpan.FromHours(8));

    public async Task InitializeAsync()
    {
        var catalog = Catalog.Replace("""{ "name": "chat-cite", "deployments":""",
            """{ "name": "agent-slow", "deployments": [ { "provider": "fake", "model": "fake-chat+agent+firstbyte=1500", "price": { "currency": "USD", "input": 1.0, "output": 2.0 } } ] }, { "name": "chat-cite", "deployments":""",
            StringComparison.Ordinal);
        _host = await MulanHost.StartAsync(catalog, b => b.Configuration["Assistant:SweepSeconds"] = "3600");
        await AppTestKit.KnowledgeBaseAsync(_host, "orders", "Order 1001 shipped on May 3.");
        _runner = _host.App.Services.GetRequiredService<ScheduleRunner>();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<string> PublishAsync(string slug, string model = "agent") => AppTestKit.PublishAsync(_host, new
    {
        slug, name = slug, kind = "assistant", model, knowledgeBases = new[] { "orders" },
        assistant = new
        {
            schedules = new[] { new { name = "morning", cron = "0 9 * * 1-5", timeZone = "Asia/Shanghai", input = "Daily summary. CALL knowledge_search {\"query\":\"order\"}" } },
        },
    });

    [Fact]
    public async Task Weekdays_at_nine_in_Shanghai_fire_once_per_occurrence_and_once_after_downtime()
    {
        var app = await PublishAsync("daily");
        Assert.Empty(await _runner.TickAsync(Monday0800, default)); // first sight: counting starts now
        Assert.Empty(await _runner.TickAsync(Monday0800.AddMinutes(59), default));
        var first = Assert.Single(await _runner.TickAsync(Monday0800.AddHours(1).AddSeconds(30), default));
        Assert.Equal("schedule", first.Origin);
        Assert.Equal("morning", first.Schedule);
        Assert.Empty(await _runner.TickAsync(Monday0800.AddHours(1).AddMinutes(2), default));
        var run = await WaitAsync(_host.Admin, first.Id, "succeeded", "failed");
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Contains("Order 1001", run["output"]!.GetValue<string>());

        // Down from Monday 09:02 until Friday 10:00: Tuesday to Friday were missed; one run, not four.
        var friday = Monday0800.AddDays(4).AddHours(2);
        var afterDowntime = Assert.Single(await _runner.TickAsync(friday, default));
        await WaitAsync(_host.Admin, afterDowntime.Id, "succeeded", "failed");
        Assert.Empty(await _runner.TickAsync(friday.AddMinutes(1), default));
        // Saturday and Sunday are not weekdays.
        Assert.Empty(await _runner.TickAsync(Monday0800.AddDays(6).AddHours(3), default));
        Assert.Single(await _runner.TickAsync(Monday0800.AddDays(7).AddHours(1), default));

        var runs = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{app}/runs");
        Assert.Equal(3, runs!["runs"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_schedule_list_shows_the_next_occurrence_the_last_firing_and_the_latest_run_to_its_own_workspace_only()
    {
        var app = await PublishAsync("listed");
        await _runner.TickAsync(Monday0800, default);
        var fired = Assert.Single(await _runner.TickAsync(Monday0800.AddHours(1), default));
        await WaitAsync(_host.Admin, fired.Id, "succeeded", "failed");

        var list = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/schedules"))!["schedules"]!.AsArray();
        var listed = Assert.Single(list, s => s!["app"]!["id"]!.GetValue<string>() == app)!;
        Assert.Equal("morning", listed["name"]!.GetValue<string>());
        Assert.Equal("0 9 * * 1-5", listed["cron"]!.GetValue<string>());
        Assert.Equal("Asia/Shanghai", listed["timeZone"]!.GetValue<string>());
        Assert.False(listed["webhook"]!.GetValue<bool>());
        Assert.Equal(fired.Id, listed["lastRun"]!["id"]!.GetValue<string>());
        Assert.Equal("succeeded", listed["lastRun"]!["status"]!.GetValue<string>());
        Assert.Equal(Monday0800.AddHours(1), listed["lastFired"]!.GetValue<DateTimeOffset>());
        // The next weekday 09:00 in Shanghai after the real clock, found day by day without the cron library.
        var shanghai = TimeSpan.FromHours(8);
        var local = DateTimeOffset.UtcNow.ToOffset(shanghai);
        var next = new DateTimeOffset(local.Year, local.Month, local.Day, 9, 0, 0, shanghai);
        while (next <= DateTimeOffset.UtcNow || next.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
        {
            next = next.AddDays(1);
        }
        Assert.Equal(next, listed["next"]!.GetValue<DateTimeOffset>());

        // A key of another workspace sees none of it; the app's own workspace's key sees it.
        using (var created = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "elsewhere" }))
        {
            created.EnsureSuccessStatusCode();
        }
        using var other = _host.Client(await _host.CreateKeyAsync(new { name = "other", workspace = "elsewhere" }));
        Assert.Empty((await other.GetFromJsonAsync<JsonObject>("api/schedules"))!["schedules"]!.AsArray());
        using var own = _host.Client(await _host.CreateKeyAsync(new { name = "own" }));
        Assert.Contains((await own.GetFromJsonAsync<JsonObject>("api/schedules"))!["schedules"]!.AsArray(), s => s!["app"]!["id"]!.GetValue<string>() == app);
    }

    [Fact]
    public async Task A_schedule_whose_previous_run_has_not_ended_skips_the_occurrence()
    {
        await PublishAsync("slow", "agent-slow");
        await _runner.TickAsync(Monday0800, default);
        var first = Assert.Single(await _runner.TickAsync(Monday0800.AddHours(1), default));
        // The next day's occurrence comes while the first run still waits for its slow model.
        Assert.Equal("running", (await GetRunAsync(_host.Admin, first.Id))["status"]!.GetValue<string>());
        Assert.Empty(await _runner.TickAsync(Monday0800.AddDays(1).AddHours(1), default));
        await WaitAsync(_host.Admin, first.Id, "succeeded", "failed");
        Assert.Single(await _runner.TickAsync(Monday0800.AddDays(2).AddHours(1), default));
    }

    [Fact]
    public async Task Bad_schedules_are_refused_with_their_paths()
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/apps", new
        {
            slug = "bad", name = "bad", kind = "assistant", model = "agent",
            assistant = new
            {
                schedules = new object[]
                {
                    new { name = "a", cron = "0 9 * *", input = "x" },
                    new { name = "b", cron = "61 9 * * *", input = "x" },
                    new { name = "c", cron = "0 9 * * *", timeZone = "Mars/Olympus", input = "x" },
                    new { name = "c", cron = "0 9 * * *", input = "" },
                    new { name = "d", cron = "0 9 * * *", input = "x", webhook = new { url = "ftp://example.com/x" } },
                },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        foreach (var path in new[]
        {
            "$.assistant.schedules[0].cron", "$.assistant.schedules[1].cron", "$.assistant.schedules[2].timeZone", "$.assistant.schedules[3].name",
            "$.assistant.schedules[3].input", "$.assistant.schedules[4].webhook.url",
        })
        {
            Assert.True(errors.ContainsKey(path), $"{path} missing from {errors}");
        }
        var apps = await _host.Admin.GetFromJsonAsync<JsonObject>("api/apps");
        Assert.DoesNotContain(apps!["apps"]!.AsArray(), a => a!["slug"]!.GetValue<string>() == "bad");
    }
}

/// <summary>A scheduled run's result posted to a webhook on loopback, allowed by the administrator's setting, and refused without it.</summary>
public sealed class ScheduleWebhookTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_finished_scheduled_run_is_posted_to_its_webhook_through_the_guarded_client(bool allowed)
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<JsonObject>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        await using var hook = builder.Build();
        hook.MapPost("/hook", async (HttpRequest request) =>
        {
            received.Enqueue((await JsonNode.ParseAsync(request.Body))!.AsObject());
            return Results.Ok();
        });
        await hook.StartAsync();
        var url = hook.Urls.Single() + "/hook";

        await using var host = await MulanHost.StartAsync(Catalog, b =>
        {
            b.Configuration["Assistant:SweepSeconds"] = "3600";
            if (allowed)
            {
                b.Configuration["Assistant:WebhookAllowHosts:0"] = "127.0.0.1";
            }
        });
        await AppTestKit.PublishAsync(host, new
        {
            slug = "reporter", name = "reporter", kind = "assistant", model = "agent",
            assistant = new { schedules = new[] { new { name = "nightly", cron = "0 2 * * *", input = "Nightly report.", webhook = new { url } } } },
        });
        var runner = host.App.Services.GetRequiredService<ScheduleRunner>();
        var t0 = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
        await runner.TickAsync(t0, default);
        var run = Assert.Single(await runner.TickAsync(t0.AddHours(3), default));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonObject shown;
        while (true)
        {
            shown = await GetRunAsync(host.Admin, run.Id);
            if (Steps(shown).Any(s => s["kind"]!.GetValue<string>() == "delivery"))
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, shown.ToJsonString());
            await Task.Delay(50);
        }
        var delivery = Steps(shown).Single(s => s["kind"]!.GetValue<string>() == "delivery");
        Assert.Equal("succeeded", shown["status"]!.GetValue<string>());
        if (allowed)
        {
            Assert.Equal("ok", delivery["status"]!.GetValue<string>());
            var posted = Assert.Single(received);
            Assert.Equal(run.Id, posted["run"]!.GetValue<string>());
            Assert.Equal("nightly", posted["schedule"]!.GetValue<string>());
            Assert.Equal("DONE: Nightly report.", posted["output"]!.GetValue<string>());
        }
        else
        {
            Assert.Equal("failed", delivery["status"]!.GetValue<string>());
            Assert.Contains("address", delivery["error"]!.GetValue<string>());
            Assert.Empty(received);
            Assert.Equal("DONE: Nightly report.", shown["output"]!.GetValue<string>());
        }
    }
}
