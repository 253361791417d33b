using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;

namespace Mulan.Tests.Assistant;

/// <summary>A server whose route <c>agent</c> is a gullible tool-calling fake model (<c>+agent</c>): it obeys every
/// <c>CALL name {json}</c> line of the last message, whoever wrote it.</summary>
public static class AssistantTestKit
{
    public static readonly string Catalog = AppTestKit.Catalog.Replace(
        """{ "name": "chat-cite", "deployments":""",
        """
        { "name": "agent", "deployments": [ { "provider": "fake", "model": "fake-chat+agent", "price": { "currency": "USD", "input": 1.0, "output": 2.0 } } ] },
        { "name": "chat-cite", "deployments":
        """, StringComparison.Ordinal);

    public static Task<MulanHost> StartAsync(Action<WebApplicationBuilder>? configure = null) => MulanHost.StartAsync(Catalog, configure);

    /// <summary>The loopback orders service as the tool source <c>orders</c>: its private address allowed, its key stored.</summary>
    public static Task<JsonObject> OrdersSourceAsync(MulanHost host, Tools.OrdersService orders, int? timeoutSeconds = null) =>
        Tools.ToolTestKit.CreateAsync(host, new
        {
            name = "orders", openapi = orders.Json, baseUrl = orders.BaseUrl.ToString(), allowHosts = new[] { orders.Host }, timeoutSeconds,
            credentials = new { header = "X-Api-Key", value = Tools.OrdersService.Secret },
        });

    public static async Task<JsonObject> StartRunAsync(HttpClient client, string app, string input)
    {
        using var response = await client.PostAsJsonAsync($"api/apps/{app}/runs", new { input });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 202, body);
        return JsonNode.Parse(body)!.AsObject();
    }

    public static async Task<JsonObject> GetRunAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"api/runs/{id}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>Polls until the run is in one of <paramref name="statuses"/> (default: ended or waiting for approval).</summary>
    public static async Task<JsonObject> WaitAsync(HttpClient client, string id, params string[] statuses)
    {
        statuses = statuses.Length > 0 ? statuses : ["succeeded", "failed", "cancelled", "awaiting_approval"];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var run = await GetRunAsync(client, id);
            if (statuses.Contains(run["status"]!.GetValue<string>()))
            {
                return run;
            }
            Assert.True(DateTime.UtcNow < deadline, $"run {id} is still {run["status"]}: {run}");
            await Task.Delay(50);
        }
    }

    public static IReadOnlyList<JsonObject> Steps(JsonObject run) => [.. run["steps"]!.AsArray().Select(s => s!.AsObject())];

    public static string Summary(JsonObject run) =>
        string.Join(" | ", Steps(run).Select(s => $"{s["kind"]}:{s["name"]}:{s["status"]}{(s["error"] is { } e ? "(" + e + ")" : "")}"));
}
