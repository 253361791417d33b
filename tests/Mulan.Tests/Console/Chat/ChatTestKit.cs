using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;

namespace Mulan.Tests.Console.Chat;

/// <summary>A server with a grounded, slowly streaming fake model (<c>chat-cite-slow</c>: the first sentence of source 1,
/// three characters a delta, 30 ms apart) and helpers for the chat API.</summary>
public static class ChatTestKit
{
    public static readonly string Catalog = AppTestKit.Catalog.Replace(
        """{ "name": "chat", "deployments":""",
        """
        { "name": "chat-cite-slow", "deployments": [ { "provider": "fake", "model": "fake-chat+cite+gap=30", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
        { "name": "chat", "deployments":
        """, StringComparison.Ordinal);

    public const string Refunds = "Refunds are paid within five working days of the return. Store credit is issued at once.";

    public static Task<MulanHost> StartAsync(Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null) =>
        MulanHost.StartAsync(Catalog, configure);

    /// <summary>A published knowledge-qa app over a new knowledge base holding <paramref name="text"/>; returns the app id.</summary>
    public static async Task<string> PublishQaAsync(MulanHost host, string slug, string text, string? name = null)
    {
        await AppTestKit.KnowledgeBaseAsync(host, slug + "-kb", text);
        return await AppTestKit.PublishAsync(host, new
        {
            slug, name = name ?? "Help for " + slug, kind = "knowledge-qa", model = "chat-cite-slow", knowledgeBases = new[] { slug + "-kb" },
            openingMessage = "Hello! Ask me about " + slug + ".", suggestedQuestions = new[] { "How long do refunds take?" },
            instructions = "SECRET-INSTRUCTIONS-" + slug,
        });
    }

    public static async Task<JsonObject> ShareAsync(MulanHost host, string appId, object? body = null)
    {
        using var response = await host.Admin.PostAsJsonAsync($"api/apps/{appId}/shares", body ?? new { name = "intranet" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    public static HttpClient Bearer(MulanHost host, string token)
    {
        var http = new HttpClient { BaseAddress = host.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>One server-sent event of the chat API, with when it arrived.</summary>
    public sealed record ChatEvent(string Name, JsonObject Data, TimeSpan At);

    public static async Task<List<ChatEvent>> SendAsync(HttpClient client, string slug, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/chat/{slug}/messages") { Content = JsonContent.Create(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(await response.Content.ReadAsStringAsync(), null, response.StatusCode);
        }
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType?.ToString());
        var clock = Stopwatch.StartNew();
        var events = new List<ChatEvent>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(new ChatEvent(name ?? "message", JsonNode.Parse(line[6..])!.AsObject(), clock.Elapsed));
            }
        }
        return events;
    }

    public static string Answer(IEnumerable<ChatEvent> events) => string.Concat(events.Where(e => e.Name == "delta").Select(e => e.Data["text"]!.GetValue<string>()));
}
