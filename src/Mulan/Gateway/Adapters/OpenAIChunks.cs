using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Gateway.Adapters;

/// <summary>One translated <c>chat.completion.chunk</c>, already serialized (the relay writes it as it is).</summary>
public sealed class OpenAIChunk(byte[] json)
{
    public ReadOnlyMemory<byte> Json { get; } = json;

    /// <summary>The chunk as a JSON object, for code that reads it (tests, folding a stream into one completion).</summary>
    public JsonObject ToNode() => JsonNode.Parse(Json.Span)!.AsObject();

    public static implicit operator JsonObject(OpenAIChunk chunk) => chunk.ToNode();

    public override string ToString() => Encoding.UTF8.GetString(Json.Span);
}

/// <summary>
/// Builds the <c>chat.completion.chunk</c> events of one translated stream, written straight to UTF-8: a stream may carry
/// thousands of them, and building each as a tree of JSON nodes first cost several times the CPU. The assistant role
/// rides on the first delta, as OpenAI sends it; usage goes in a final chunk with empty <c>choices</c>. One instance
/// serves one stream (it reuses its buffer).
/// </summary>
public sealed class OpenAIChunks(string id, string model)
{
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private Utf8JsonWriter? _writer;
    private bool _roleSent;

    public string Id { get; set; } = id;

    public OpenAIChunk Text(string text) => Delta(w => w.WriteString("content", text));

    public OpenAIChunk Reasoning(string text) => Delta(w => w.WriteString("reasoning_content", text));

    /// <summary>The first fragment of tool call <paramref name="index"/>: id, name and (possibly partial) arguments.</summary>
    public OpenAIChunk ToolCallStart(int index, string callId, string name, string arguments = "") => Delta(w =>
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteString("id", callId);
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", name);
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    });

    public OpenAIChunk ToolCallArguments(int index, string partial) => Delta(w =>
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteStartObject("function");
        w.WriteString("arguments", partial);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    });

    public OpenAIChunk Finish(string reason) => Chunk(null, reason);

    public OpenAIChunk Usage(long prompt, long completion, long cached = 0)
    {
        var w = Start();
        w.WriteStartArray("choices");
        w.WriteEndArray();
        w.WritePropertyName("usage");
        OpenAIShapes.Usage(prompt, completion, cached).WriteTo(w);
        return End(w);
    }

    private OpenAIChunk Delta(Action<Utf8JsonWriter> fields) => Chunk(fields, null);

    private OpenAIChunk Chunk(Action<Utf8JsonWriter>? fields, string? finish)
    {
        var w = Start();
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        if (!_roleSent)
        {
            _roleSent = true;
            w.WriteString("role", "assistant");
        }
        fields?.Invoke(w);
        w.WriteEndObject();
        if (finish is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finish);
        }
        w.WriteEndObject();
        w.WriteEndArray();
        return End(w);
    }

    private Utf8JsonWriter Start()
    {
        _buffer.ResetWrittenCount();
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(_buffer, Wire.WireJson.Writer);
        }
        else
        {
            _writer.Reset(_buffer);
        }
        _writer.WriteStartObject();
        _writer.WriteString("id", Id);
        _writer.WriteString("object", "chat.completion.chunk");
        _writer.WriteNumber("created", _created);
        _writer.WriteString("model", model);
        return _writer;
    }

    private OpenAIChunk End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        return new OpenAIChunk(_buffer.WrittenSpan.ToArray());
    }
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
