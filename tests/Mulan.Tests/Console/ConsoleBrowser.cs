using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Mulan.Tests.Assistant;
using Mulan.Tests.Assistant.Tools;
using Mulan.Tests.Support;

namespace Mulan.Tests.Console;

/// <summary>
/// One Mulan (with the assistant's tool-calling fake model and a loopback orders service) and one headless Debian
/// chromium, shared by a test class; each test opens its own browser context (its own cookies).
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    public const int Timeout = 15000;

    private IPlaywright _playwright = null!;

    public MulanHost Host { get; private set; } = null!;
    public OrdersService Orders { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where to write screenshots of the main pages (docs/images), when set.</summary>
    public static string? ScreenshotDirectory => Environment.GetEnvironmentVariable("MULAN_CONSOLE_SCREENSHOTS");

    public async Task InitializeAsync()
    {
        Orders = await OrdersService.StartAsync();
        Host = await AssistantTestKit.StartAsync(b => b.Configuration["Assistant:ApprovalExpirySeconds"] = "600");
        await AssistantTestKit.OrdersSourceAsync(Host, Orders);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await Host.DisposeAsync();
        await Orders.DisposeAsync();
    }

    /// <summary>A fresh context at 1280×800 in <paramref name="locale"/>; any dialog (alert) or page error fails the test.</summary>
    public async Task<ConsolePage> OpenAsync(string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Host.BaseUrl.ToString(),
            Locale = locale,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        context.SetDefaultTimeout(Timeout);
        var page = await context.NewPageAsync();
        var result = new ConsolePage(context, page);
        page.Dialog += (_, dialog) =>
        {
            result.Dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        page.PageError += (_, error) => result.Errors.Add(error);
        page.Console += (_, message) =>
        {
            // A CSP refusal is reported on the console: it would mean the page tried something the policy forbids.
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                result.Errors.Add(message.Text);
            }
        };
        return result;
    }
}

public sealed class ConsolePage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IBrowserContext Context { get; } = context;
    public IPage Page { get; } = page;
    public List<string> Dialogs { get; } = [];
    public List<string> Errors { get; } = [];

    public async Task SignInWithAdminKeyAsync()
    {
        await Page.GotoAsync("/");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Administrator key" }).ClickAsync();
        await Page.GetByLabel("Administrator key").FillAsync(MulanHost.AdminKey);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Navigation, new() { Name = "Main navigation" })).ToBeVisibleAsync(new() { Timeout = ConsoleBrowser.Timeout });
    }

    /// <summary>Follows a navigation link of the shell (client-side: no reload).</summary>
    public async Task NavigateAsync(string name)
    {
        await Page.GetByRole(AriaRole.Navigation, new() { Name = "Main navigation" }).GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1, Name = name, Exact = true })).ToBeVisibleAsync(new() { Timeout = ConsoleBrowser.Timeout });
    }

    /// <summary>Axe on the page as it is: no serious or critical violation.</summary>
    public async Task AssertAccessibleAsync(string what)
    {
        var result = await Page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"{what}: " + string.Join("; ", bad.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));
    }

    /// <summary>Strings the pages asked for that the translations lack (the i18n module records them).</summary>
    public async Task<string[]> MissingTranslationsAsync() => await Page.EvaluateAsync<string[]>("() => [...(window.mulanMissingKeys || [])]");

    public async Task ScreenshotAsync(string name)
    {
        if (ConsoleBrowser.ScreenshotDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, $"console-{name}.png") });
        }
    }

    public void AssertClean()
    {
        Assert.True(Dialogs.Count == 0, "a dialog fired: " + string.Join(", ", Dialogs));
        Assert.True(Errors.Count == 0, "page errors: " + string.Join(" | ", Errors));
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
