using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>
/// prompt_tokens the way OpenAI documents counting chat input: per message 3 tokens plus the
/// tokens of role, content and (if present) name + 1; then 3 for priming the reply; plus the
/// JSON text of the <c>tools</c> array as sent. Content-part arrays count their text parts only.
/// Tool calls inside assistant messages are not counted (OpenAI documents no rule for them).
/// </summary>
internal static class PromptTokenCounter
{
    private const int PerMessage = 3;
    private const int PerName = 1;
    private const int ReplyPriming = 3;

    public static int Count(JsonElement messages, JsonElement? tools)
    {
        var total = ReplyPriming;
        foreach (var message in messages.EnumerateArray())
        {
            total += PerMessage;
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var property in message.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "role" when property.Value.ValueKind == JsonValueKind.String:
                        total += O200k.Count(property.Value.GetString());
                        break;
                    case "content":
                        total += ContentTokens(property.Value);
                        break;
                    case "name" when property.Value.ValueKind == JsonValueKind.String:
                        total += O200k.Count(property.Value.GetString()) + PerName;
                        break;
                    default:
                        break;
                }
            }
        }

        if (tools is { ValueKind: JsonValueKind.Array } toolArray)
        {
            total += O200k.Count(toolArray.GetRawText());
        }

        return total;
    }

    private static int ContentTokens(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return O200k.Count(content.GetString());
            case JsonValueKind.Array:
                var sum = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object
                        && part.TryGetProperty("text", out var text)
                        && text.ValueKind == JsonValueKind.String
                        && (!part.TryGetProperty("type", out var type) || type.ValueEquals("text")))
                    {
                        sum += O200k.Count(text.GetString());
                    }
                }

                return sum;
            default:
                return 0;
        }
    }
}
