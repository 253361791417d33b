using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace Mulan.Gateway.Metering;

/// <summary>
/// Counts tokens when a vendor reports none (an aborted stream, a vendor without stream usage). Uses the
/// o200k_base encoding and OpenAI's documented chat framing (3 tokens per message, 1 per name, 3 to prime
/// the reply); records counted this way are marked estimated.
/// </summary>
public sealed class TokenCounter
{
    private readonly Lazy<Tokenizer> _tokenizer = new(() => TiktokenTokenizer.CreateForModel("gpt-4o"));

    public int Count(string? text) => string.IsNullOrEmpty(text) ? 0 : _tokenizer.Value.CountTokens(text);

    /// <summary>Input tokens of a chat request: messages (text parts) plus the JSON text of any tools.</summary>
    public int CountChatInput(JsonObject request)
    {
        var total = 3;
        if (request["messages"] is JsonArray messages)
        {
            foreach (var m in messages.OfType<JsonObject>())
            {
                total += 3 + Count(Text(m["role"])) + Count(ContentText(m["content"]));
                if (m["name"] is JsonValue name)
                {
                    total += 1 + Count(Text(name));
                }
                if (m["tool_calls"] is JsonArray calls)
                {
                    total += Count(calls.ToJsonString());
                }
            }
        }
        if (request["tools"] is JsonArray tools)
        {
            total += Count(tools.ToJsonString());
        }
        return total;
    }

    public int CountEmbeddingInput(JsonObject request) => request["input"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => Count(s),
        JsonArray a => a.Sum(item => item switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => Count(s),
            JsonArray ids => ids.Count, // already token ids
            _ => 0,
        }),
        _ => 0,
    };

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string? ContentText(JsonNode? content) => content switch
    {
        JsonValue v => Text(v),
        JsonArray parts => string.Concat(parts.OfType<JsonObject>().Select(p => Text(p["text"]))),
        _ => null,
    };
}
