using System.Text.Json.Nodes;

namespace Mulan.Gateway.Adapters;

/// <summary>
/// Builds the <c>chat.completion.chunk</c> objects of one translated stream. The assistant role rides on the
/// first delta, as OpenAI sends it; usage goes in a final chunk with empty <c>choices</c>.
/// </summary>
public sealed class OpenAIChunks(string id, string model)
{
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private bool _roleSent;

    public string Id { get; set; } = id;

    public JsonObject Text(string text) => Delta(new JsonObject { ["content"] = text });

    public JsonObject Reasoning(string text) => Delta(new JsonObject { ["reasoning_content"] = text });

    /// <summary>The first fragment of tool call <paramref name="index"/>: id, name and (possibly partial) arguments.</summary>
    public JsonObject ToolCallStart(int index, string callId, string name, string arguments = "") => Delta(new JsonObject
    {
        ["tool_calls"] = new JsonArray(new JsonObject
        {
            ["index"] = index,
            ["id"] = callId,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
        }),
    });

    public JsonObject ToolCallArguments(int index, string partial) => Delta(new JsonObject
    {
        ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = partial } }),
    });

    public JsonObject Finish(string reason) => Chunk(new JsonObject(), reason);

    public JsonObject Usage(long prompt, long completion, long cached = 0)
    {
        var chunk = Shell();
        chunk["choices"] = new JsonArray();
        chunk["usage"] = OpenAIShapes.Usage(prompt, completion, cached);
        return chunk;
    }

    private JsonObject Delta(JsonObject delta) => Chunk(delta, null);

    private JsonObject Chunk(JsonObject delta, string? finish)
    {
        if (!_roleSent)
        {
            _roleSent = true;
            var withRole = new JsonObject { ["role"] = "assistant" };
            foreach (var (name, value) in delta.ToList())
            {
                delta.Remove(name);
                withRole[name] = value;
            }
            delta = withRole;
        }
        var chunk = Shell();
        chunk["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish });
        return chunk;
    }

    private JsonObject Shell() => new()
    {
        ["id"] = Id,
        ["object"] = "chat.completion.chunk",
        ["created"] = _created,
        ["model"] = model,
    };
}

/// <summary>Whole OpenAI response objects for translated non-streaming answers.</summary>
public static class OpenAIShapes
{
    public static JsonObject Usage(long prompt, long completion, long cached = 0)
    {
        var usage = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
        };
        if (cached > 0)
        {
            usage["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached };
        }
        return usage;
    }

    /// <param name="toolCalls">OpenAI <c>tool_calls</c> entries (<c>{id, type, function:{name, arguments}}</c>), or null.</param>
    public static JsonObject Completion(string id, string model, string? content, JsonArray? toolCalls, string finishReason, JsonObject usage)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
        if (toolCalls is { Count: > 0 })
        {
            message["tool_calls"] = toolCalls;
        }
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason }),
            ["usage"] = usage,
        };
    }

    public static JsonObject ToolCall(string id, string name, string arguments) => new()
    {
        ["id"] = id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
    };

    public static JsonObject Embeddings(string model, IEnumerable<float[]> vectors, long promptTokens)
    {
        var data = new JsonArray();
        var index = 0;
        foreach (var vector in vectors)
        {
            var values = new JsonArray();
            foreach (var v in vector)
            {
                values.Add(v);
            }
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = index++, ["embedding"] = values });
        }
        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = promptTokens, ["total_tokens"] = promptTokens },
        };
    }
}
