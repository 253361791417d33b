using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Knowledge;
using Mulan.Tests.Support;

namespace Mulan.Tests.Apps;

/// <summary>A server with a grounded fake model (<c>chat-cite</c>) and a knowledge base of three policies.</summary>
public static class AppTestKit
{
    public static readonly string Catalog = MulanHost.DefaultCatalog.Replace(
        """{ "name": "chat", "deployments":""",
        """
        { "name": "chat-cite", "deployments": [ { "provider": "fake", "model": "fake-chat+cite", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
        { "name": "chat-echo", "deployments": [ { "provider": "fake", "model": "fake-chat+echo", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
        { "name": "chat", "deployments":
        """, StringComparison.Ordinal);

    public static async Task<MulanHost> StartAsync() => await MulanHost.StartAsync(Catalog);

    /// <summary>A knowledge base holding <paramref name="text"/>, ready to search.</summary>
    public static async Task<string> KnowledgeBaseAsync(MulanHost host, string name, string text, string? workspace = null)
    {
        using var created = await host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name, workspace });
        created.EnsureSuccessStatusCode();
        var kb = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var added = await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = name + ".md", text });
        added.EnsureSuccessStatusCode();
        var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
        await KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kb, doc);
        return kb;
    }

    /// <summary>Creates and publishes an app; returns its id.</summary>
    public static async Task<string> PublishAsync(MulanHost host, object definition)
    {
        using var created = await host.Admin.PostAsJsonAsync("api/apps", definition);
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, body);
        var id = JsonNode.Parse(body)!["id"]!.GetValue<string>();
        using var published = await host.Admin.PostAsJsonAsync($"api/apps/{id}/publish", new { });
        Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync());
        return id;
    }
}
