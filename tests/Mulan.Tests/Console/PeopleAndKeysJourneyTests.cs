using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Mulan.Tests.Console;

/// <summary>Signing in, keys, inviting a viewer who may not create keys, publishing an app, a pilot report, languages.</summary>
public sealed class PeopleAndKeysJourneyTests(ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = ConsoleBrowser.Timeout };

    [Fact]
    public async Task Admin_signs_in_with_the_key_and_creates_a_key_whose_secret_is_shown_once()
    {
        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Keys");
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var dialog = c.Page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name").FillAsync("console-key");
        await dialog.GetByLabel("Budget", new() { Exact = true }).FillAsync("10");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();

        var secret = c.Page.GetByRole(AriaRole.Textbox, new() { Name = "Secret key" });
        await Expect(secret).ToBeVisibleAsync(Visible);
        var key = await secret.InputValueAsync();
        Assert.StartsWith("mk-", key, StringComparison.Ordinal);
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        // The list shows the key with its gauge, never the secret again; the secret works on the gateway.
        await Expect(c.Page.GetByRole(AriaRole.Cell, new() { Name = "console-key" })).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByRole(AriaRole.Meter)).ToBeVisibleAsync(Visible);
        Assert.DoesNotContain(key, await c.Page.ContentAsync(), StringComparison.Ordinal);
        using var client = browser.Host.Client(key);
        using var models = await client.GetAsync("v1/models");
        Assert.True(models.IsSuccessStatusCode);
        // Nothing secret is kept in the page's storage.
        var stored = await c.Page.EvaluateAsync<string>("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})");
        Assert.DoesNotContain("mk-", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("mka-", stored, StringComparison.Ordinal);
        await c.AssertAccessibleAsync("keys");
        Assert.Empty(await c.MissingTranslationsAsync());
        c.AssertClean();
    }

    [Fact]
    public async Task An_invited_viewer_accepts_signs_in_and_is_not_offered_key_creation_which_the_api_refuses()
    {
        await using var admin = await browser.OpenAsync();
        await admin.SignInWithAdminKeyAsync();
        await admin.NavigateAsync("Users");
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Invite user" }).ClickAsync();
        var dialog = admin.Page.GetByRole(AriaRole.Dialog);
        var email = $"viewer-{Guid.NewGuid():N}@example.com";
        await dialog.GetByLabel("Email").FillAsync(email);
        await dialog.GetByLabel("Role").SelectOptionAsync("viewer");
        await dialog.GetByLabel("Workspace").SelectOptionAsync(new SelectOptionValue { Label = "default" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        var linkBox = admin.Page.GetByRole(AriaRole.Textbox, new() { Name = "Invitation link" });
        await Expect(linkBox).ToBeVisibleAsync(Visible);
        var link = await linkBox.InputValueAsync();
        Assert.Contains("/invite/", link, StringComparison.Ordinal);
        await admin.Page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(admin.Page.GetByRole(AriaRole.Cell, new() { Name = email })).ToBeVisibleAsync(Visible);

        await using var viewer = await browser.OpenAsync();
        await viewer.Page.GotoAsync(link);
        await viewer.Page.GetByLabel("Your name").FillAsync("Vera Viewer");
        await viewer.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("correct horse battery");
        await viewer.Page.GetByLabel("Repeat the password").FillAsync("correct horse battery");
        await viewer.Page.GetByRole(AriaRole.Button, new() { Name = "Create my account" }).ClickAsync();
        await Expect(viewer.Page.GetByText("Vera Viewer")).ToBeVisibleAsync(Visible);

        // Signed out and in again with the new password.
        await viewer.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await viewer.Page.GetByLabel("Email").FillAsync(email);
        await viewer.Page.GetByLabel("Password").FillAsync("correct horse battery");
        await viewer.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(viewer.Page.GetByText("Vera Viewer")).ToBeVisibleAsync(Visible);
        await viewer.NavigateAsync("Keys");
        await Expect(viewer.Page.GetByRole(AriaRole.Button, new() { Name = "Create key" })).ToHaveCountAsync(0);
        await Expect(viewer.Page.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToHaveCountAsync(0);

        // The API agrees: with the viewer's own session and antiforgery token, creating a key is 403.
        var status = await viewer.Page.EvaluateAsync<int>("""
            async () => {
              const me = await (await fetch('/api/auth/me')).json();
              const r = await fetch('/api/keys', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken }, body: '{"name":"nope"}' });
              return r.status;
            }
            """);
        Assert.Equal(403, status);
        // A page the role may not read, opened by its address, says so plainly.
        await viewer.Page.GotoAsync("/settings/users");
        await Expect(viewer.Page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "Your role does not allow this" })).ToBeVisibleAsync(Visible);
        viewer.AssertClean();
        admin.AssertClean();
    }

    [Fact]
    public async Task An_app_is_built_from_a_template_and_published()
    {
        await Mulan.Tests.Apps.AppTestKit.KnowledgeBaseAsync(browser.Host, "hr-policies", "Annual leave is 15 days after the first year.");
        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Apps");
        await c.Page.GetByRole(AriaRole.Link, new() { Name = "Create app" }).ClickAsync();
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Use this template: HR Policy Q&A" }).ClickAsync();
        var form = c.Page.GetByRole(AriaRole.Form, new() { Name = "App definition" });
        await Expect(form).ToBeVisibleAsync(Visible);
        await form.GetByLabel("Slug").FillAsync("hr-console");
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync("HR from the console");
        await form.GetByLabel("Knowledge bases").SelectOptionAsync("hr-policies");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();

        await Expect(c.Page.GetByRole(AriaRole.Heading, new() { Level = 1, Name = "HR from the console" })).ToBeVisibleAsync(Visible);
        await c.Page.GetByRole(AriaRole.Button, new() { Name = "Publish latest version" }).ClickAsync();
        await Expect(c.Page.GetByText("v1 live").First).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByRole(AriaRole.Link, new() { Name = "/chat/hr-console" })).ToBeVisibleAsync(Visible);

        // The playground is the chat page itself, framed: the answer streams in there, on the admin's own session.
        var playground = c.Page.FrameLocator("iframe.playground");
        await playground.GetByRole(AriaRole.Textbox).FillAsync("How many days of annual leave?");
        await playground.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        var answer = playground.GetByRole(AriaRole.Article, new() { Name = "Answer" }).Last;
        await Expect(answer).Not.ToHaveAttributeAsync("aria-busy", "true", new() { Timeout = 15000 });
        Assert.False(string.IsNullOrWhiteSpace(await answer.InnerTextAsync()));

        var app = await browser.Host.Admin.GetFromJsonAsync<JsonObject>("api/apps/hr-console");
        Assert.Equal(1, app!["publishedVersion"]!.GetValue<int>());
        Assert.Equal("knowledge-qa", app["kind"]!.GetValue<string>());
        await c.AssertAccessibleAsync("app");
        c.AssertClean();
    }

    [Fact]
    public async Task A_pilot_report_opens_and_the_navigation_switches_to_traditional_chinese()
    {
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        using var created = await browser.Host.Admin.PostAsJsonAsync("api/pilots", new
        {
            name = "Acme knowledge pilot", customer = "Acme Ltd", contractValue = new { amount = 120000, currency = "CNY" }, start = today, end = today,
        });
        created.EnsureSuccessStatusCode();
        var pilot = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using (var effort = await browser.Host.Admin.PostAsJsonAsync($"api/pilots/{pilot}/effort", new { role = "engineer", days = 2, dayRate = new { amount = 3000, currency = "CNY" }, date = today }))
        {
            effort.EnsureSuccessStatusCode();
        }

        await using var c = await browser.OpenAsync();
        await c.SignInWithAdminKeyAsync();
        await c.NavigateAsync("Pilots");
        await c.Page.GetByRole(AriaRole.Link, new() { Name = "Acme knowledge pilot" }).ClickAsync();
        await Expect(c.Page.GetByRole(AriaRole.Heading, new() { Name = "Pilot report: Acme knowledge pilot" })).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByText("Acme Ltd").First).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByRole(AriaRole.Cell, new() { Name = "engineer" })).ToBeVisibleAsync(Visible);
        await c.AssertAccessibleAsync("pilot report");

        await c.Page.GetByLabel("Language").SelectOptionAsync("zh-Hant");
        var nav = c.Page.GetByRole(AriaRole.Navigation);
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "金鑰" })).ToBeVisibleAsync(Visible);
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "知識庫" })).ToBeVisibleAsync(Visible);
        await Expect(c.Page.GetByRole(AriaRole.Heading, new() { Name = "試點報告：Acme knowledge pilot" })).ToBeVisibleAsync(Visible);
        Assert.Equal("zh-Hant", await c.Page.EvaluateAsync<string>("() => document.documentElement.lang"));
        // Remembered: a reload stays in Traditional Chinese.
        await c.Page.ReloadAsync();
        await Expect(c.Page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "金鑰" })).ToBeVisibleAsync(Visible);
        Assert.Empty(await c.MissingTranslationsAsync());
        c.AssertClean();
    }

    [Theory]
    [InlineData("zh-TW", "zh-Hant", "登入木蘭")]
    [InlineData("zh-HK", "zh-Hant", "登入木蘭")]
    [InlineData("zh-CN", "zh-Hans", "登录木兰")]
    [InlineData("en-GB", "en", "Sign in to Mulan")]
    public async Task The_language_follows_the_browser(string locale, string language, string title)
    {
        await using var c = await browser.OpenAsync(locale);
        await c.Page.GotoAsync("/signin");
        await Expect(c.Page.GetByRole(AriaRole.Heading, new() { Name = title })).ToBeVisibleAsync(Visible);
        await Expect(c.Page.Locator("html")).ToHaveAttributeAsync("lang", language);
        c.AssertClean();
    }
}
