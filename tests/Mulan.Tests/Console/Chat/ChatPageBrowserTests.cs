using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Mulan.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Mulan.Tests.Console.Chat;

/// <summary>One Mulan with two published knowledge-qa apps and one headless Debian chromium for the class.</summary>
public sealed class ChatBrowserFixture : IAsyncLifetime
{
    public const string HostOrigin = "http://host.example";
    private IPlaywright _playwright = null!;

    public MulanHost Host { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string RefundsId { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await ChatTestKit.StartAsync(b => b.Configuration["ChatPage:WidgetOrigins:0"] = HostOrigin);
        RefundsId = await ChatTestKit.PublishQaAsync(Host, "refunds", ChatTestKit.Refunds);
        // What a hostile document (or model) could put in an answer: the fake quotes its first sentence.
        using var kb = await Host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "tricks" });
        var kbId = (await kb.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var doc = await Host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kbId}/documents", new
        {
            title = "tricks.txt",
            text = "Tricks <img src=x onerror=alert(1)> and <script>alert(2)</script> and [x](javascript:alert(3)) and [ok](https://example.com/) end here.",
        });
        var docId = (await doc.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
        await Knowledge.KnowledgeApiTests.WaitForDocumentAsync(Host.Admin, kbId, docId);
        await Apps.AppTestKit.PublishAsync(Host, new { slug = "tricks", name = "Tricks", kind = "knowledge-qa", model = "chat-cite-slow", knowledgeBases = new[] { "tricks" } });
        _playwright = await Playwright.CreateAsync();
        // The widget's host page is a made-up public origin (served by Playwright) and Mulan listens on loopback: Chromium's
        // private-network checks would refuse that pairing, which a real intranet page and server on one network never meet.
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true,
            Args = ["--no-sandbox", "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,LocalNetworkAccessChecks"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await Host.DisposeAsync();
    }

    public async Task<string> ShareTokenAsync(string appId) => (await ChatTestKit.ShareAsync(Host, appId))["token"]!.GetValue<string>();

    /// <summary>A fresh context; dialogs and page errors are collected (a test fails on any).</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Problems)> OpenAsync(string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Host.BaseUrl.ToString(), Locale = locale });
        context.SetDefaultTimeout(15000);
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        page.Dialog += (_, d) => { problems.Add("dialog: " + d.Message); _ = d.DismissAsync(); };
        page.PageError += (_, e) => problems.Add("error: " + e);
        page.RequestFailed += (_, r) => problems.Add("failed: " + r.Url + " " + r.Failure);
        page.Response += (_, r) =>
        {
            if (r.Status >= 400)
            {
                problems.Add($"{r.Status}: {r.Url}");
            }
        };
        page.Console += (_, m) =>
        {
            // Any console error: a refused script or style (CSP), a failed request.
            if (m.Type == "error")
            {
                problems.Add("console: " + m.Text);
            }
        };
        return (context, page, problems);
    }
}

/// <summary>The chat page in a browser: a share link's journey, hostile answers, the widget, accessibility.</summary>
public sealed class ChatPageBrowserTests(ChatBrowserFixture f) : IClassFixture<ChatBrowserFixture>
{
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = 15000 };

    private static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"{what}: " + string.Join("; ", bad.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));
    }

    [Fact]
    public async Task A_share_link_asks_streams_cites_takes_feedback_and_keeps_the_conversation()
    {
        var token = await f.ShareTokenAsync(f.RefundsId);
        var (context, page, problems) = await f.OpenAsync();
        await using var _ = context;
        await page.GotoAsync($"/chat/refunds#share={token}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Help for refunds", Level = 1 })).ToBeVisibleAsync(Visible);
        // The token leaves the address bar at once (it stays in this tab's session storage).
        Assert.DoesNotContain(token, page.Url);
        await Expect(page.GetByText("Hello! Ask me about refunds.")).ToBeVisibleAsync(Visible);
        await AssertAccessibleAsync(page, "empty chat");

        await page.GetByLabel("Your message").FillAsync("How long do refunds take?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        var answer = page.Locator("article.message.assistant").Last;
        var lengths = new List<int>();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && await answer.Locator(".actions").CountAsync() == 0)
        {
            lengths.Add((await answer.Locator(".content").InnerTextAsync()).Length);
            await Task.Delay(40);
        }
        // Seen growing: several distinct, increasing lengths before the end.
        var distinct = lengths.Where(l => l > 0).Distinct().ToList();
        Assert.True(distinct.Count >= 3, "lengths seen: " + string.Join(",", lengths));
        Assert.Equal(distinct.Order().ToList(), distinct);
        await Expect(answer.Locator(".content")).ToContainTextAsync("Refunds are paid within five working days of the return.");

        await answer.GetByRole(AriaRole.Button, new() { Name = "Source 1: refunds-kb" }).ClickAsync();
        var panel = page.Locator("aside.passage");
        await Expect(panel.GetByText("Store credit is issued at once.", new() { Exact = false })).ToBeVisibleAsync(Visible);
        await Expect(panel.GetByRole(AriaRole.Heading, new() { Name = "refunds-kb" })).ToBeVisibleAsync(Visible);

        await answer.GetByRole(AriaRole.Button, new() { Name = "Helpful", Exact = true }).ClickAsync();
        await Expect(answer.GetByText("Thanks for your feedback.")).ToBeVisibleAsync(Visible);
        var feedback = (await f.Host.Admin.GetFromJsonAsync<JsonObject>($"api/feedback?app={f.RefundsId}"))!["feedback"]!.AsArray();
        Assert.Contains(feedback, x => x!["rating"]!.GetValue<string>() == "up" && x["question"]!.GetValue<string>() == "How long do refunds take?");
        await AssertAccessibleAsync(page, "answered chat with a passage open");

        await page.ReloadAsync();
        var history = page.GetByRole(AriaRole.Navigation, new() { Name = "Conversations" });
        await history.GetByRole(AriaRole.Button, new() { Name = "How long do refunds take?" }).ClickAsync();
        await Expect(page.Locator("article.message.user").GetByText("How long do refunds take?")).ToBeVisibleAsync(Visible);
        await Expect(page.Locator("article.message.assistant .content").Last).ToContainTextAsync("five working days");
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Hostile_answers_show_as_text_with_no_markup_no_script_link_and_no_dialog()
    {
        var appId = (await f.Host.Admin.GetFromJsonAsync<JsonObject>("api/apps/tricks"))!["id"]!.GetValue<string>();
        var token = await f.ShareTokenAsync(appId);
        var (context, page, problems) = await f.OpenAsync();
        await using var _ = context;
        await page.GotoAsync($"/chat/tricks#share={token}");
        await page.GetByLabel("Your message").FillAsync("What are the tricks?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        var content = page.Locator("article.message.assistant .content").Last;
        await Expect(page.Locator("article.message.assistant .actions").Last).ToBeVisibleAsync(Visible);

        await Expect(content).ToContainTextAsync("<img src=x onerror=alert(1)>");
        await Expect(content).ToContainTextAsync("<script>alert(2)</script>");
        Assert.Equal(0, await page.Locator(".messages img, .messages script").CountAsync());
        Assert.Equal(0, await page.Locator(".messages a[href^='javascript']").CountAsync());
        // The javascript: link shows as its text; the https one is a link that opens safely.
        var ok = content.GetByRole(AriaRole.Link, new() { Name = "ok" });
        Assert.Equal("https://example.com/", await ok.GetAttributeAsync("href"));
        Assert.Equal("noopener noreferrer", await ok.GetAttributeAsync("rel"));
        Assert.Equal(1, await content.Locator("a").CountAsync());
        await Task.Delay(300);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task The_widget_on_a_strict_host_page_opens_the_chat_and_leaks_no_globals()
    {
        var token = await f.ShareTokenAsync(f.RefundsId);
        var mulan = f.Host.BaseUrl.GetLeftPart(UriPartial.Authority);
        var csp = $"default-src 'none'; script-src {mulan}; frame-src {mulan}";
        var (context, page, problems) = await f.OpenAsync();
        await using var _ = context;
        await page.RouteAsync(ChatBrowserFixture.HostOrigin + "/**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/html",
            Headers = new Dictionary<string, string> { ["Content-Security-Policy"] = csp },
            Body = route.Request.Url.EndsWith("/plain", StringComparison.Ordinal)
                ? "<!doctype html><html lang=\"en\"><head><title>Intranet</title></head><body><main><h1>Intranet</h1></main></body></html>"
                : $"<!doctype html><html lang=\"en\"><head><title>Intranet</title></head><body><main><h1>Intranet</h1></main>" +
                  $"<script src=\"{mulan}/widget.js\" data-app=\"refunds\" data-share=\"{token}\" async></script></body></html>",
        }));
        const string Globals = "() => Object.getOwnPropertyNames(window).sort()";
        await page.GotoAsync(ChatBrowserFixture.HostOrigin + "/plain");
        var before = await page.EvaluateAsync<string[]>(Globals);
        await page.GotoAsync(ChatBrowserFixture.HostOrigin + "/");
        var button = page.GetByRole(AriaRole.Button, new() { Name = "Open chat" });
        await Expect(button).ToBeVisibleAsync(Visible);
        Assert.Equal(before, await page.EvaluateAsync<string[]>(Globals));

        await button.ClickAsync();
        var chat = page.FrameLocator("iframe[data-mulan-widget=frame]");
        await Expect(chat.GetByRole(AriaRole.Heading, new() { Name = "Help for refunds", Level = 1 })).ToBeVisibleAsync(Visible);
        await chat.GetByLabel("Your message").FillAsync("How long do refunds take?");
        await chat.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(chat.Locator("article.message.assistant .content").Last).ToContainTextAsync("five working days", new() { Timeout = 15000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Close chat" }).ClickAsync();
        await Expect(page.Locator("iframe[data-mulan-widget=frame]")).ToBeHiddenAsync();
        Assert.Empty(problems);
    }

    [Fact]
    public async Task The_language_follows_the_browser_and_can_be_switched()
    {
        var token = await f.ShareTokenAsync(f.RefundsId);
        var (context, page, problems) = await f.OpenAsync("zh-TW");
        await using var _ = context;
        await page.GotoAsync($"/chat/refunds#share={token}");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "傳送" })).ToBeVisibleAsync(Visible);
        Assert.Equal("zh-Hant", await page.EvaluateAsync<string>("() => document.documentElement.lang"));
        await page.GetByLabel("語言").SelectOptionAsync("zh-Hans");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "发送" })).ToBeVisibleAsync(Visible);
        await page.GetByLabel("语言").SelectOptionAsync("en");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send" })).ToBeVisibleAsync(Visible);
        Assert.Empty(problems);
    }
}
