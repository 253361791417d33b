using System.Text;
using System.Text.Json.Nodes;

namespace Mulan.Gateway.Adapters;

/// <summary>Reading helpers over the client's OpenAI request body, shared by the adapters.</summary>
public static class OpenAIRequest
{
    /// <summary>The text of a message's <c>content</c>: a string, or the <c>text</c> parts of an array joined.</summary>
    public static string Text(JsonNode? content)
    {
        switch (content)
        {
            case JsonValue v when v.TryGetValue<string>(out var s):
                return s;
            case JsonArray parts:
                var text = new StringBuilder();
                foreach (var part in parts)
                {
                    if (part is JsonObject p && (string?)p["type"] is "text" or null && p["text"] is JsonValue t && t.TryGetValue<string>(out var piece))
                    {
                        text.Append(piece);
                    }
                }
                return text.ToString();
            default:
                return "";
        }
    }

    public static string? String(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static double? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary><c>max_completion_tokens</c>, else the legacy <c>max_tokens</c>.</summary>
    public static int? MaxTokens(JsonObject body) =>
        Number(body["max_completion_tokens"]) is { } a ? (int)a : Number(body["max_tokens"]) is { } b ? (int)b : null;

    /// <summary><c>stop</c> as a list, whether the client sent a string or an array.</summary>
    public static List<string> Stop(JsonObject body) => body["stop"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        JsonArray a => [.. a.Select(String).OfType<string>()],
        _ => [],
    };

    /// <summary>The function tools of the request: (name, description, parameters schema).</summary>
    public static IEnumerable<(string Name, string? Description, JsonNode? Parameters)> Tools(JsonObject body)
    {
        if (body["tools"] is not JsonArray tools)
        {
            yield break;
        }
        foreach (var tool in tools)
        {
            if (tool is JsonObject t && t["function"] is JsonObject f && String(f["name"]) is { } name)
            {
                yield return (name, String(f["description"]), f["parameters"]?.DeepClone());
            }
        }
    }

    /// <summary>The inputs of an embeddings request as strings (token-array inputs are not translatable).</summary>
    public static List<string>? EmbeddingInputs(JsonObject body) => body["input"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        JsonArray a when a.All(i => String(i) is not null) => [.. a.Select(i => String(i)!)],
        _ => null,
    };

    /// <summary>Parses tool-call arguments (a JSON text) into an object; a vendor needs an object, not a string.</summary>
    /// <exception cref="VendorError">the arguments are not a JSON object, so the call cannot be translated.</exception>
    public static JsonObject Arguments(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw VendorError.BadRequest("tool call arguments must be a JSON object to be sent to this provider");
        }
        catch (System.Text.Json.JsonException)
        {
            throw VendorError.BadRequest("tool call arguments are not valid JSON, so they cannot be sent to this provider");
        }
    }

    /// <summary>The OpenAI <c>tool_calls</c> of an assistant message as (id, name, arguments text).</summary>
    public static IEnumerable<(string Id, string Name, string Arguments)> ToolCalls(JsonObject message)
    {
        if (message["tool_calls"] is not JsonArray calls)
        {
            yield break;
        }
        foreach (var call in calls)
        {
            if (call is JsonObject c && c["function"] is JsonObject f && String(f["name"]) is { } name)
            {
                yield return (String(c["id"]) ?? "", name, String(f["arguments"]) ?? "{}");
            }
        }
    }

    /// <summary>
    /// Appends a turn to a vendor's list of turns, merged into the previous turn when that has the same role: vendors
    /// such as Anthropic and Gemini require user and assistant turns to alternate, where OpenAI allows runs of one role
    /// (several tool results in a row, a user message after a tool result).
    /// </summary>
    /// <param name="itemsKey">the name of the turn's list of blocks or parts (<c>content</c>, <c>parts</c>).</param>
    public static void AppendTurn(JsonArray turns, string role, string itemsKey, JsonArray items)
    {
        if (turns.Count > 0 && turns[^1] is JsonObject last && String(last["role"]) == role)
        {
            var existing = last[itemsKey]!.AsArray();
            foreach (var item in items.ToList())
            {
                items.Remove(item);
                existing.Add(item);
            }
            return;
        }
        turns.Add(new JsonObject { ["role"] = role, [itemsKey] = items });
    }
}
