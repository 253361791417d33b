using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway;
using Mulan.Hosting;

namespace Mulan.Knowledge;

/// <summary>The gateway refused or failed a call made on a knowledge base's behalf; status and message come from it.</summary>
public sealed class GatewayCallException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>Worth trying again later: rate limited, vendor down, or the gateway unreachable (status 0).</summary>
    public bool Transient => Status is 0 or 429 or >= 500;
}

/// <summary>
/// Calls this server's own <c>/v1</c> gateway as any client would, so answers, embeddings and reranking made for a
/// knowledge base are routed, metered and limited like every other call, on the key that is passed.
/// </summary>
public sealed class SelfGateway(IHttpClientFactory http, SelfAddress self)
{
    public Task<JsonNode> PostAsync(string path, JsonObject body, string bearer, CancellationToken ct) =>
        SendAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), bearer, ct);

    /// <summary>A multipart call (speech and OCR), answered with JSON.</summary>
    public Task<JsonNode> PostFormAsync(string path, MultipartFormDataContent form, string bearer, CancellationToken ct) => SendAsync(path, form, bearer, ct);

    private async Task<JsonNode> SendAsync(string path, HttpContent content, string bearer, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(self.Get(), path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        var scope = SelfCallScope.Current;
        scope?.Stamp(request);
        HttpResponseMessage response;
        try
        {
            response = await http.CreateClient().SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new GatewayCallException(0, $"the gateway could not be reached ({e.Message})");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                scope?.Add(Header(response, "x-mulan-cost"), Header(response, "x-mulan-cost-currency"));
                throw new GatewayCallException((int)response.StatusCode, ErrorMessage(text));
            }
            try
            {
                var json = JsonNode.Parse(text) ?? throw new GatewayCallException(502, "the gateway answered with an empty body");
                // Chat tokens count towards the item; an embedding's input is the retrieval's, not the answer's.
                var chat = path.EndsWith("chat/completions", StringComparison.Ordinal);
                scope?.Add(Header(response, "x-mulan-cost"), Header(response, "x-mulan-cost-currency"),
                    chat ? Tokens(json, "prompt_tokens") : 0, chat ? Tokens(json, "completion_tokens") : 0);
                return json;
            }
            catch (JsonException)
            {
                throw new GatewayCallException(502, "the gateway answered with something that is not JSON");
            }
        }
    }

    /// <summary>The text of the first choice of a chat completion.</summary>
    /// <param name="endUser">sent as the request's <c>user</c>, so the usage record names who asked (a signed-in user).</param>
    public async Task<string> ChatAsync(string model, string system, string user, string bearer, CancellationToken ct, string? endUser = null)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["temperature"] = 0,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = system },
                new JsonObject { ["role"] = "user", ["content"] = user }),
        };
        if (endUser is not null)
        {
            body["user"] = endUser;
        }
        var answer = await PostAsync("v1/chat/completions", body, bearer, ct);
        try
        {
            return answer["choices"]?[0]?["message"]?["content"]?.GetValue<string>() ?? "";
        }
        catch (InvalidOperationException)
        {
            throw new GatewayCallException(502, "the chat model answered without text content");
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static long Tokens(JsonNode json, string name) =>
        json["usage"]?[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0;

    private static string ErrorMessage(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() ?? "the gateway refused the request";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "the gateway refused the request";
        }
    }
}
