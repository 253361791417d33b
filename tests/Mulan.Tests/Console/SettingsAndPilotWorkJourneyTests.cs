using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Mulan.Tests.Apps;
using static Microsoft.Playwright.Assertions;

namespace Mulan.Tests.Console;

/// <summary>The settings pages (residency, limits and PII rules of a workspace; prices; exchange rates), the schedules
/// page, and a pilot's working side (the scope board by priority, a change request approved, effort logged) — each
/// checked in the browser and then against the API, which is what the server actually stored.</summary>
public sealed class SettingsAndPilotWorkJourneyTests(ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = ConsoleBrowser.Timeout };

    private async Task<JsonObject> WorkspaceAsync(string name) =>
        (JsonObject)(await browser.Host.Admin.GetFromJsonAsync<JsonObject>("api/workspaces"))!["workspaces"]!.AsArray()
            .Single(w => w!["name"]!.GetValue<string>() == name)!;

    [Fact]
    public async Task A_workspace_is_kept_on_local_providers_with_limits_and_its_pii_rules_are_set_in_the_settings()
    {
        using (var created = await browser.Host.Admin.PostAsJsonAsync("api/workspaces", new { name = "branch-office" }))
        {
            created.EnsureSuccessStatusCode();
        }
        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Workspace settings");
        await c.Page.GetByLabel("Workspace", new() { Exact = true }).Last.SelectOptionAsync(new SelectOptionValue { Label = "branch-office" });
        var limits = c.Page.GetByRole(AriaRole.Form, new() { Name = "Data residency and limits" });
        await Expect(limits).ToBeVisibleAsync(Visible);
        await limits.GetByLabel("Keep this workspace's requests on local providers").CheckAsync();
        await limits.GetByLabel("Budget", new() { Exact = true }).FillAsync("300");
        await limits.GetByLabel("Requests per minute").FillAsync("120");
        await limits.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(c.Page.GetByText("Saved.").First).ToBeVisibleAsync(Visible);

        var pii = c.Page.GetByRole(AriaRole.Form, new() { Name = "Personal data (PII) rules" });
        await pii.GetByLabel("Mainland mobile numbers").SelectOptionAsync("mask");
        await pii.GetByLabel("Mainland ID numbers").SelectOptionAsync("block");
        await pii.GetByRole(AriaRole.Button, new() { Name = "Add a pattern" }).ClickAsync();
        await pii.GetByLabel("Name", new() { Exact = true }).FillAsync("employee_no");
        await pii.GetByLabel("Regular expression").FillAsync(@"EMP-\d{6}");
        await pii.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(c.Page.GetByText("Saved.").First).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("workspace settings");
        await c.ScreenshotAsync("settings-workspace");

        // What the server stored, read back through the API (the page redraws from it too).
        var ws = await WorkspaceAsync("branch-office");
        Assert.True(ws["localOnly"]!.GetValue<bool>());
        Assert.Equal(300m, ws["budget"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(120, ws["rpm"]!.GetValue<int>());
        var rules = ws["pii"]!["rules"]!.AsArray().ToDictionary(r => r!["kind"]!.GetValue<string>(), r => r!["action"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string> { ["china_mobile"] = "mask", ["china_id"] = "block", ["employee_no"] = "mask" }, rules);
        Assert.Equal(@"EMP-\d{6}", ws["pii"]!["patterns"]![0]!["pattern"]!.GetValue<string>());

        // A pattern that is not a regular expression is refused with the server's message, and nothing changes.
        await pii.GetByLabel("Regular expression").FillAsync("EMP-(");
        await pii.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(c.Page.Locator(".toast-error")).ToBeVisibleAsync(Visible);
        Assert.Equal(@"EMP-\d{6}", (await WorkspaceAsync("branch-office"))["pii"]!["patterns"]![0]!["pattern"]!.GetValue<string>());
        Assert.Empty(await c.MissingTranslationsAsync());
        c.AssertClean();
    }

    [Fact]
    public async Task A_new_price_is_announced_and_an_exchange_rate_added_in_the_settings()
    {
        using (var created = await browser.Host.Admin.PostAsJsonAsync("api/models", new
        {
            name = "priced", deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 1m, output = 2m } } },
        }))
        {
            created.EnsureSuccessStatusCode();
        }
        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Prices");
        var card = c.Page.GetByRole(AriaRole.Region, new() { Name = "priced", Exact = true });
        await Expect(card.GetByText("USD 1 in / 2 out per 1M tokens")).ToBeVisibleAsync(Visible);
        await card.GetByRole(AriaRole.Button, new() { Name = "Announce a new price" }).ClickAsync();
        var dialog = c.Page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Input per 1M tokens", new() { Exact = true }).FillAsync("1.5");
        await dialog.GetByLabel("Output per 1M tokens", new() { Exact = true }).FillAsync("2.5");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Announce a new price" }).ClickAsync();
        await Expect(c.Page.GetByText("New price announced.")).ToBeVisibleAsync(Visible);
        await Expect(card.GetByText("USD 1.5 in / 2.5 out per 1M tokens")).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("prices");
        await c.ScreenshotAsync("settings-prices");
        var route = (await browser.Host.Admin.GetFromJsonAsync<JsonObject>("api/models"))!["models"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "priced")!;
        var change = Assert.Single(route["deployments"]![0]!["priceChanges"]!.AsArray())!;
        Assert.Equal(1.5m, change["input"]!.GetValue<decimal>());
        Assert.True(change["effectiveFrom"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow, "the form proposes a time a few minutes ahead");
        // A route from the configuration file offers no change here.
        await Expect(c.Page.GetByRole(AriaRole.Region, new() { Name = "chat", Exact = true }).GetByText("Defined in the configuration file; change it there.")).ToBeVisibleAsync(Visible);

        await c.NavigateAsync("Exchange rates");
        var form = c.Page.GetByRole(AriaRole.Form, new() { Name = "Add a rate" });
        await form.GetByLabel("Rate", new() { Exact = true }).FillAsync("7.125");
        await form.GetByRole(AriaRole.Button, new() { Name = "Add a rate" }).ClickAsync();
        await Expect(c.Page.GetByText("Rate added.")).ToBeVisibleAsync(Visible);
        var row = c.Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "7.125" });
        await Expect(row.GetByText("USD → CNY")).ToBeVisibleAsync(Visible);
        await Expect(row.GetByText("In force")).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("exchange rates");
        await c.ScreenshotAsync("settings-rates");
        var rates = (await browser.Host.Admin.GetFromJsonAsync<JsonObject>("api/exchange-rates"))!["rates"]!.AsArray();
        Assert.Contains(rates, r => r!["from"]!.GetValue<string>() == "USD" && r["to"]!.GetValue<string>() == "CNY" && r["rate"]!.GetValue<decimal>() == 7.125m);
        Assert.Empty(await c.MissingTranslationsAsync());
        c.AssertClean();
    }

    [Fact]
    public async Task A_published_schedule_is_listed_with_its_next_run()
    {
        var app = await AppTestKit.PublishAsync(browser.Host, new
        {
            slug = "morning-digest", name = "Morning digest", kind = "assistant", model = "agent", tools = new[] { "orders" },
            instructions = "Summarise yesterday's orders.",
            assistant = new { schedules = new[] { new { name = "weekday-morning", cron = "0 9 * * 1-5", timeZone = "Asia/Shanghai", input = "Summarise the orders." } } },
        });
        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Schedules");
        var row = c.Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "weekday-morning" });
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = "Morning digest v1" })).ToBeVisibleAsync(Visible);
        await Expect(row.GetByText("0 9 * * 1-5")).ToBeVisibleAsync(Visible);
        await Expect(row.GetByText("Asia/Shanghai")).ToBeVisibleAsync(Visible);
        await Expect(row.GetByText("Not run yet")).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("schedules");
        await c.ScreenshotAsync("schedules");

        // The schedule editor of the app: a second schedule added in the form becomes part of the new version.
        await row.GetByRole(AriaRole.Link, new() { Name = "Morning digest v1" }).ClickAsync();
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "New version" }).ClickAsync();
        var dialog = c.Page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByRole(AriaRole.Group, new() { Name = "Schedules" })).ToBeVisibleAsync(Visible);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Add a schedule" }).ClickAsync();
        var added = dialog.Locator("tr.schedule-row").Nth(1);
        await added.GetByLabel("Name").FillAsync("friday-review");
        await added.GetByLabel("Cron").FillAsync("0 17 * * 5");
        await added.GetByLabel("Time zone").FillAsync("Asia/Shanghai");
        await added.GetByLabel("Input").FillAsync("Review the week.");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save as new version" }).ClickAsync();
        await Expect(c.Page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0, new() { Timeout = ConsoleBrowser.Timeout });
        var v2 = await browser.Host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{app}/versions/2");
        var schedules = v2!["definition"]!["assistant"]!["schedules"]!.AsArray();
        Assert.Equal(["weekday-morning", "friday-review"], schedules.Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal("0 17 * * 5", schedules[1]!["cron"]!.GetValue<string>());
        c.AssertClean();
    }

    [Fact]
    public async Task A_change_request_is_made_and_approved_on_the_scope_board_and_effort_is_logged()
    {
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        using var created = await browser.Host.Admin.PostAsJsonAsync("api/pilots", new
        {
            name = "Contoso HR pilot", customer = "Contoso", contractValue = new { amount = 80000, currency = "CNY" }, start = today, end = today,
        });
        created.EnsureSuccessStatusCode();
        var pilot = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using (var scope = await browser.Host.Admin.PostAsJsonAsync($"api/pilots/{pilot}/scope", new { title = "Answer leave questions", priority = "must" }))
        {
            Assert.True(scope.IsSuccessStatusCode, await scope.Content.ReadAsStringAsync());
        }
        using (var frozen = await browser.Host.Admin.PostAsJsonAsync($"api/pilots/{pilot}/freeze", new { }))
        {
            frozen.EnsureSuccessStatusCode();
        }

        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.Page.GotoAsync($"/pilots/{pilot}");
        var board = c.Page.GetByRole(AriaRole.Region, new() { Name = "Scope by priority" });
        await Expect(board.GetByRole(AriaRole.Region, new() { Name = "Must" }).GetByText("Answer leave questions")).ToBeVisibleAsync(Visible);

        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Request a change" }).ClickAsync();
        var dialog = c.Page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Change", new() { Exact = true }).SelectOptionAsync("add");
        await dialog.GetByLabel("Title").FillAsync("Export answers to Excel");
        await dialog.GetByLabel("Priority").SelectOptionAsync("should");
        await dialog.GetByLabel("Extra effort (days)").FillAsync("2");
        await dialog.GetByLabel("Extra cost").FillAsync("6000");
        await dialog.GetByLabel("Reason").FillAsync("HR asked for a monthly export.");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Submit the request" }).ClickAsync();
        var changes = c.Page.GetByRole(AriaRole.Region, new() { Name = "Change requests" });
        var pending = changes.GetByRole(AriaRole.Row).Filter(new() { HasText = "Export answers to Excel" });
        await Expect(pending.GetByText("Pending")).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("pilot work");
        await c.ScreenshotAsync("pilot-work");

        await pending.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await c.Page.GetByRole(AriaRole.Dialog).GetByLabel("Your name").FillAsync("Li Wei");
        await c.Page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(changes.GetByRole(AriaRole.Row).Filter(new() { HasText = "Export answers to Excel" }).GetByText("Approved")).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByRole(AriaRole.Region, new() { Name = "Scope by priority" }).GetByRole(AriaRole.Region, new() { Name = "Should" })
            .GetByText("Export answers to Excel")).ToBeVisibleAsync(Visible);

        var effort = c.Page.GetByRole(AriaRole.Form, new() { Name = "Log effort" });
        await effort.GetByLabel("Role").FillAsync("analyst");
        await effort.GetByLabel("Days").FillAsync("1.5");
        await effort.GetByLabel("Day rate").FillAsync("2000");
        await effort.GetByRole(AriaRole.Button, new() { Name = "Log effort" }).ClickAsync();
        await Expect(c.Page.GetByText("Effort logged.")).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByRole(AriaRole.Cell, new() { Name = "analyst" })).ToBeVisibleAsync(Visible);

        var ledger = await browser.Host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/ledger");
        Assert.Contains("analyst", ledger!.ToJsonString());
        var stored = (await browser.Host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}/changes"))!["changes"]!.AsArray();
        var approved = Assert.Single(stored)!;
        Assert.Equal("approved", approved["status"]!.GetValue<string>());
        Assert.Equal("Li Wei", approved["decidedBy"]!.GetValue<string>());
        Assert.Equal(6000m, approved["impact"]!["cost"]!["amount"]!.GetValue<decimal>());
        var scopeNow = (await browser.Host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{pilot}"))!["scope"]!.AsArray();
        Assert.Contains(scopeNow, s => s!["title"]!.GetValue<string>() == "Export answers to Excel" && s["priority"]!.GetValue<string>() == "should");
        Assert.Empty(await c.MissingTranslationsAsync());
        c.AssertClean();
    }
}
