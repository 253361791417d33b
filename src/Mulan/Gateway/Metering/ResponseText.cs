using System.Text;
using System.Text.Json;

namespace Mulan.Gateway.Metering;

/// <summary>Collects generated text (content, reasoning, tool calls) to estimate output tokens when a vendor reports none.</summary>
public sealed class ResponseText
{
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();
    private readonly SortedDictionary<long, (StringBuilder Name, StringBuilder Arguments)> _calls = [];

    public static long CountOutput(JsonElement response, TokenCounter tokens)
    {
        var text = new ResponseText();
        if (response.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            var offset = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var message))
                {
                    text.Add(message, offset);
                }
                offset += 1000;
            }
        }
        return text.Count(tokens);
    }

    /// <summary>Adds one stream chunk's deltas.</summary>
    public void AddChunk(ReadOnlySpan<byte> chunk)
    {
        try
        {
            var reader = new Utf8JsonReader(chunk);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("delta", out var delta))
                    {
                        var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
                        Add(delta, index * 1000);
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: nothing generated to count.
        }
    }

    public long Count(TokenCounter tokens) =>
        tokens.Count(_content.ToString()) + tokens.Count(_reasoning.ToString()) +
        _calls.Values.Sum(c => (long)tokens.Count(c.Name.ToString()) + tokens.Count(c.Arguments.ToString()));

    private void Add(JsonElement part, int callOffset)
    {
        if (part.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        Append(_content, part, "content");
        Append(_reasoning, part, "reasoning_content");
        if (part.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            var position = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var index = call.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : position;
                position++;
                if (!_calls.TryGetValue(callOffset + index, out var entry))
                {
                    entry = (new StringBuilder(), new StringBuilder());
                    _calls[callOffset + index] = entry;
                }
                if (call.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object)
                {
                    Append(entry.Name, function, "name");
                    Append(entry.Arguments, function, "arguments");
                }
            }
        }
    }

    private static void Append(StringBuilder to, JsonElement obj, string name)
    {
        if (obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String)
        {
            to.Append(v.GetString());
        }
    }
}
