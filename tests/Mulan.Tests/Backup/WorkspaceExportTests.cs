using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.Backup;

/// <summary>One workspace's data as JSON lines: all of it, none of another workspace's, no secret; only for its owners.</summary>
public sealed class WorkspaceExportTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(configure: b => b.Configuration["People:SignInAttemptsPerMinute"] = "1000");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static List<JsonObject> Lines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject())];

    [Fact]
    public async Task An_export_holds_the_workspace_and_nothing_of_another_and_no_secret()
    {
        await CreateWorkspaceAsync(_host, "exported");
        await CreateWorkspaceAsync(_host, "neighbour");
        var secret = await _host.CreateKeyAsync(new { name = "exported-key", workspace = "exported", budget = new { amount = 5m, currency = "USD", period = "month" } });
        var neighbourSecret = await _host.CreateKeyAsync(new { name = "neighbour-key", workspace = "neighbour" });
        await AppTestKit.KnowledgeBaseAsync(_host, "exported-kb", "The warehouse opens at eight.", workspace: "exported");
        var app = await AppTestKit.PublishAsync(_host, new { slug = "exported-app", name = "Exported app", kind = "knowledge-qa", model = "chat", knowledgeBases = new[] { "exported-kb" }, workspace = "exported" });
        foreach (var (key, text) in new[] { (secret, "one"), (secret, "two"), (neighbourSecret, "other") })
        {
            using var client = _host.Client(key);
            using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = text } } });
            response.EnsureSuccessStatusCode();
        }
        await _host.WaitForRecordsAsync(3);

        using var response2 = await _host.Admin.GetAsync("api/workspaces/exported/export");
        Assert.Equal(HttpStatusCode.OK, response2.StatusCode);
        Assert.Equal("application/x-ndjson", response2.Content.Headers.ContentType!.MediaType);
        var text2 = await response2.Content.ReadAsStringAsync();
        var lines = Lines(text2);
        Assert.Equal("export", lines[0]["type"]!.GetValue<string>());
        var byType = lines.GroupBy(l => l["type"]!.GetValue<string>()).ToDictionary(g => g.Key, g => g.Select(l => l["value"]!).ToList());
        Assert.Equal("exported", Assert.Single(byType["workspace"])["name"]!.GetValue<string>());
        Assert.Equal("exported-key", Assert.Single(byType["key"])["name"]!.GetValue<string>());
        Assert.Equal("exported-kb", Assert.Single(byType["knowledge_base"])["name"]!.GetValue<string>());
        Assert.Equal("ready", Assert.Single(byType["document"])["status"]!.GetValue<string>().ToLowerInvariant());
        Assert.Equal(app, Assert.Single(byType["app"])["id"]!.GetValue<string>());
        Assert.Equal("exported-app", Assert.Single(byType["app_version"])["definition"]!["slug"]!.GetValue<string>());
        // The two chat requests of this workspace, plus whatever embedding calls its knowledge base made; none of the neighbour's.
        Assert.Equal(2, byType["usage"].Count(r => r!["endpoint"]?.GetValue<string>() is null or "chat.completions" && r!["model"]!.GetValue<string>() == "chat"));
        Assert.Contains(byType["audit"], e => e!["action"]!.GetValue<string>() == "key.created");
        Assert.DoesNotContain("neighbour", text2, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, text2, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[^12..], text2, StringComparison.Ordinal);
        Assert.DoesNotContain("\"hash\"", text2, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Only_the_workspace_owners_may_export_it_and_other_workspaces_see_404()
    {
        await CreateWorkspaceAsync(_host, "guarded");
        await CreateWorkspaceAsync(_host, "outsider");
        await CreateUserAsync(_host, "owner@guarded.example", "guarded", "owner");
        await CreateUserAsync(_host, "admin@guarded.example", "guarded", "admin");
        await CreateUserAsync(_host, "owner@outsider.example", "outsider", "owner");
        using var owner = WithBearer(_host, await TokenAsync(_host, "owner@guarded.example"));
        using var admin = WithBearer(_host, await TokenAsync(_host, "admin@guarded.example"));
        using var outsider = WithBearer(_host, await TokenAsync(_host, "owner@outsider.example"));
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("api/workspaces/guarded/export")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("api/workspaces/guarded/export")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync("api/workspaces/guarded/export")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync("api/workspaces/nowhere/export")).StatusCode);
    }
}
