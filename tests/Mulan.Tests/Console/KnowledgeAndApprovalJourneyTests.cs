using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Mulan.Tests.Apps;
using Mulan.Tests.Assistant;
using static Microsoft.Playwright.Assertions;

namespace Mulan.Tests.Console;

/// <summary>Knowledge bases from upload to cited answers (with hostile text shown as text), the approvals inbox, and
/// axe over every main page.</summary>
public sealed class KnowledgeAndApprovalJourneyTests(ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = ConsoleBrowser.Timeout };
    private const string HostileTitle = "<img src=x onerror=alert(1)>";

    [Fact]
    public async Task A_document_is_uploaded_becomes_ready_is_searched_with_scores_and_cited_while_html_stays_text()
    {
        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Knowledge bases");
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Create knowledge base" }).ClickAsync();
        await c.Page.GetByRole(AriaRole.Dialog).GetByLabel("Name").FillAsync("handbook");
        await c.Page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(c.Page.GetByRole(AriaRole.Heading, new() { Level = 1, Name = "handbook" })).ToBeVisibleAsync(Visible);

        await c.Page.SetInputFilesAsync("#kb-files", new FilePayload
        {
            Name = "leave-policy.md", MimeType = "text/markdown",
            Buffer = Encoding.UTF8.GetBytes("# Annual leave\n\nEvery employee gets 15 days of annual leave after the first year.\n\n# Sick leave\n\nSick leave needs a doctor's note after two days.\n"),
        });
        await Expect(c.Page.GetByText("Uploaded; the documents are being processed.")).ToBeVisibleAsync(Visible);
        var row = c.Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "leave-policy.md" });
        await Expect(row.GetByText("Ready", new() { Exact = true })).ToBeVisibleAsync(Visible);

        // A document whose title and text are markup: shown as characters, never parsed.
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Add text" }).ClickAsync();
        var add = c.Page.GetByRole(AriaRole.Dialog);
        await add.GetByLabel("Title").FillAsync(HostileTitle);
        await add.GetByLabel("Text").FillAsync("Parking rules: <b>bold</b> <script>alert(2)</script> The parking garage opens at seven. <img src=y onerror=alert(3)>");
        await add.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        var hostile = c.Page.GetByRole(AriaRole.Row).Filter(new() { HasText = HostileTitle });
        await Expect(hostile.GetByText("Ready", new() { Exact = true })).ToBeVisibleAsync(Visible);

        var search = c.Page.GetByRole(AriaRole.Region, new() { Name = "Search playground" });
        await search.GetByLabel("Query").FillAsync("annual leave days");
        await search.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Expect(search.Locator(".result").First).ToBeVisibleAsync(Visible);
        await Expect(search.GetByText("Fused score").First).ToBeVisibleAsync(Visible);
        await Expect(search.GetByText("Keyword score").First).ToBeVisibleAsync(Visible);
        await Expect(search.GetByText("Vector score").First).ToBeVisibleAsync(Visible);
        Assert.Matches(@"\d", await search.Locator(".score-fused").First.InnerTextAsync());
        Assert.Matches(@"\d", await search.Locator(".score-keyword").First.InnerTextAsync());

        var ask = c.Page.GetByRole(AriaRole.Region, new() { Name = "Ask" });
        await ask.GetByLabel("Question").FillAsync("How many days of annual leave do employees get?");
        await ask.GetByRole(AriaRole.Button, new() { Name = "Ask", Exact = true }).ClickAsync();
        var marker = ask.Locator(".citation-marker").First;
        await Expect(marker).ToBeVisibleAsync(Visible);
        await marker.ClickAsync();
        var passage = c.Page.GetByRole(AriaRole.Dialog);
        await Expect(passage.GetByText("15 days of annual leave")).ToBeVisibleAsync(Visible);
        await passage.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();

        // The hostile passage as an answer and a search result: its markup stays text.
        await ask.GetByLabel("Question").FillAsync("When does the parking garage open?");
        await ask.GetByRole(AriaRole.Button, new() { Name = "Ask", Exact = true }).ClickAsync();
        await Expect(ask.GetByText("seven", new() { Exact = false }).First).ToBeVisibleAsync(Visible);
        await search.GetByLabel("Query").FillAsync("parking garage");
        await search.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Expect(search.GetByText(HostileTitle).First).ToBeVisibleAsync(Visible);
        await Expect(search.GetByText("<script>alert(2)</script>", new() { Exact = false }).First).ToBeVisibleAsync(Visible);
        Assert.Equal(0, await c.Page.Locator("img[src='x'], img[src='y'], main b, main script").CountAsync());
        await c.AssertAccessibleAsync("knowledge base");
        Assert.Empty(await c.MissingTranslationsAsync());
        c.AssertClean();
    }

    [Fact]
    public async Task A_tool_call_waiting_for_approval_is_approved_in_the_inbox_and_runs()
    {
        await AppTestKit.PublishAsync(browser.Host, new
        {
            slug = "orders-bot", name = "Orders", kind = "assistant", model = "agent", tools = new[] { "orders" },
            instructions = "You look up orders and file tickets.", assistant = new { maxSteps = 8 },
        });
        var started = await AssistantTestKit.StartRunAsync(browser.Host.Admin, "orders-bot", "CALL delete_customer {\"id\":42}");
        var id = started["id"]!.GetValue<string>();
        Assert.Equal("awaiting_approval", (await AssistantTestKit.WaitAsync(browser.Host.Admin, id))["status"]!.GetValue<string>());

        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Approvals");
        var card = c.Page.GetByRole(AriaRole.Article, new() { Name = "Tool call delete_customer" });
        await Expect(card).ToBeVisibleAsync(Visible);
        await Expect(card.GetByText("\"id\": 42")).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("approvals");
        await c.ScreenshotAsync("approvals");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(c.Page.GetByText("delete_customer approved.")).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByText("Nothing is waiting for approval.")).ToBeVisibleAsync(Visible);

        var run = await AssistantTestKit.WaitAsync(browser.Host.Admin, id, "succeeded", "failed");
        Assert.Contains(browser.Orders.Log, l => l.StartsWith("DELETE ", StringComparison.Ordinal));
        Assert.Contains(AssistantTestKit.Steps(run), s => s["kind"]!.GetValue<string>() == "approval");

        // The run's page shows its trace.
        await c.NavigateAsync("Digital employee");
        await c.Page.GetByRole(AriaRole.Link, new() { Name = id }).ClickAsync();
        await Expect(c.Page.GetByRole(AriaRole.Heading, new() { Name = "Steps" })).ToBeVisibleAsync(Visible);
        await Expect(c.Page.Locator(".step-tool").First).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("run");
        await c.ScreenshotAsync("run");

        // Model text with markup (this fake model answers "DONE: " and the input): shown as text on the run's page.
        var echoed = await AssistantTestKit.StartRunAsync(browser.Host.Admin, "orders-bot", "<img src=z onerror=alert(4)><b>from the model</b>");
        var echoedId = echoed["id"]!.GetValue<string>();
        Assert.Equal("succeeded", (await AssistantTestKit.WaitAsync(browser.Host.Admin, echoedId))["status"]!.GetValue<string>());
        await c.Page.GotoAsync($"/runs/{echoedId}");
        await Expect(c.Page.Locator(".run-output")).ToHaveTextAsync("DONE: <img src=z onerror=alert(4)><b>from the model</b>", new() { Timeout = ConsoleBrowser.Timeout });
        Assert.Equal(0, await c.Page.Locator("img[src='z'], main b").CountAsync());
        c.AssertClean();
    }

    [Fact]
    public async Task Every_main_page_has_no_serious_accessibility_violation()
    {
        await AppTestKit.KnowledgeBaseAsync(browser.Host, "faq", "Refunds are paid within 14 days.");
        await browser.Host.CreateKeyAsync(new { name = "team-key", budget = new { amount = 50, currency = "USD", period = "month" } });
        using (var chat = browser.Host.Client(await browser.Host.CreateKeyAsync(new { name = "traffic" })))
        {
            using var done = await chat.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });
        }
        await using var c = await browser.OpenAsync();
        await c.Page.GotoAsync("/signin");
        await Expect(c.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Mulan" })).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("sign-in");
        await c.ScreenshotAsync("signin");
        await c.SignInWithAdminKeyAsync();
        foreach (var (name, file) in new[]
        {
            ("Overview", "overview"), ("Keys", "keys"), ("Knowledge bases", "knowledge"), ("Apps", "apps"), ("Digital employee", "runs"),
            ("Evaluations", "evaluations"), ("Pilots", "pilots"), ("Providers and models", "providers"), ("Usage", "usage"), ("Audit log", "audit"), ("Users", "users"),
            ("Schedules", "schedules"), ("Workspace settings", "settings-workspace"), ("Prices", "settings-prices"), ("Exchange rates", "settings-rates"),
        })
        {
            await c.NavigateAsync(name);
            await Expect(c.Page.Locator(".loading")).ToHaveCountAsync(0, new() { Timeout = ConsoleBrowser.Timeout });
            await c.AssertAccessibleAsync(name);
            await c.ScreenshotAsync(file);
        }
        await c.NavigateAsync("Knowledge bases");
        await c.Page.GetByRole(AriaRole.Link, new() { Name = "faq" }).ClickAsync();
        await Expect(c.Page.GetByText("Ready", new() { Exact = true }).First).ToBeVisibleAsync(Visible);
        await c.ScreenshotAsync("knowledge-base");
        await c.NavigateAsync("Apps");
        await c.Page.GetByRole(AriaRole.Link, new() { Name = "Create app" }).ClickAsync();
        await Expect(c.Page.GetByRole(AriaRole.Button, new() { Name = "Use this template: HR Policy Q&A" })).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("new app");
        await c.ScreenshotAsync("app-new");
        Assert.Empty(await c.MissingTranslationsAsync());
        c.AssertClean();
    }
}
