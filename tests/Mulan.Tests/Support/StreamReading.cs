using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Mulan.Tests.Support;

/// <summary>Client-side helpers for SSE streams from the gateway.</summary>
public static class StreamReading
{
    /// <summary>A client whose aborts really close the connection (no draining for reuse).</summary>
    public static HttpClient AbortingClient(Uri baseUrl, string key)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = baseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public static HttpRequestMessage Chat(string model, bool stream, bool includeUsage = false, string content = "Tell me something.")
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = "You are terse." }, new JsonObject { ["role"] = "user", ["content"] = content }),
        };
        if (stream)
        {
            body["stream"] = true;
        }
        if (includeUsage)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        return new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
    }

    /// <summary>Reads SSE data payloads; stops after <paramref name="stopAfterContent"/> content deltas if given.</summary>
    public static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response, int? stopAfterContent = null)
    {
        var events = new List<string>();
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        var content = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }
            events.Add(line[6..]);
            if (line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
            {
                content++;
                if (content == stopAfterContent)
                {
                    break;
                }
            }
        }
        return events;
    }
}
