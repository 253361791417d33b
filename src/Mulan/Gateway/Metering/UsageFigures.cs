using System.Text.Json;

namespace Mulan.Gateway.Metering;

/// <summary>Token counts for one request, as reported by the vendor or estimated.</summary>
/// <param name="Reasoning">reasoning tokens the vendor reported within <paramref name="Output"/>.</param>
public readonly record struct UsageFigures(long Input, long Cached, long Output, UsageSource Source, long Reasoning = 0)
{
    /// <summary>Reads the OpenAI-style <c>usage</c> object of a response or chunk: top level, or inside
    /// <c>choices[n].usage</c> (Moonshot's streams). Understands DeepSeek's cache-hit field too.</summary>
    public static bool TryRead(JsonElement root, out UsageFigures figures)
    {
        figures = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return false;
        }
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            figures = FromUsage(usage);
            return true;
        }
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("usage", out var cu) && cu.ValueKind == JsonValueKind.Object)
                {
                    figures = FromUsage(cu);
                    return true;
                }
            }
        }
        return false;
    }

    private static UsageFigures FromUsage(JsonElement usage)
    {
        var input = Number(usage, "prompt_tokens");
        var output = Number(usage, "completion_tokens");
        var cached = 0L;
        if (usage.TryGetProperty("prompt_tokens_details", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            cached = Number(d, "cached_tokens");
        }
        if (cached == 0)
        {
            cached = Number(usage, "prompt_cache_hit_tokens");
        }
        var reasoning = usage.TryGetProperty("completion_tokens_details", out var cd) && cd.ValueKind == JsonValueKind.Object ? Number(cd, "reasoning_tokens") : 0;
        return new UsageFigures(input, cached, output, UsageSource.Reported, Math.Min(reasoning, output));
    }

    private static long Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 0 ? n : 0;
}
