namespace Mulan.Speech.Adapters.DashScope;

/// <summary>
/// DashScope's synthesis voices. CosyVoice v1 voices are named in its voice list (help.aliyun.com/zh/model-studio/cosyvoice-voice-list);
/// v2 takes the same names with <c>_v2</c>. A Sambert model is one voice (<c>sambert-zhichu-v1</c> speaks as zhichu), so any
/// voice name resolves to that one. OpenAI's names map to CosyVoice voices chosen by similar character.
/// </summary>
public static class DashScopeVoices
{
    public static readonly IReadOnlyList<string> CosyVoiceV1 =
    [
        "longwan", "longcheng", "longhua", "longxiaochun", "longxiaoxia", "longxiaocheng", "longxiaobai", "longlaotie", "longshu",
        "longshuo", "longjing", "longmiao", "longyue", "longyuan", "longfei", "longjielidou", "longtong", "longxiang", "loongstella", "loongbella",
    ];

    private static readonly Dictionary<string, string> OpenAIVoices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["alloy"] = "longxiaochun", ["ash"] = "longshu", ["ballad"] = "longshuo", ["coral"] = "longxiaoxia", ["echo"] = "longcheng",
        ["fable"] = "longxiaobai", ["nova"] = "longwan", ["onyx"] = "longlaotie", ["sage"] = "longjing", ["shimmer"] = "longmiao", ["verse"] = "longyue",
    };

    public static bool IsSambert(string model) => model.StartsWith("sambert-", StringComparison.OrdinalIgnoreCase);

    private static string? Suffix(string model) =>
        model.StartsWith("cosyvoice-v1", StringComparison.OrdinalIgnoreCase) ? ""
        : model.StartsWith("cosyvoice-v2", StringComparison.OrdinalIgnoreCase) ? "_v2"
        : null;

    public static IReadOnlyCollection<string> Of(string model)
    {
        if (IsSambert(model))
        {
            return [SambertVoice(model)];
        }
        return Suffix(model) is { } suffix ? [.. CosyVoiceV1.Select(v => v + suffix)] : [];
    }

    /// <summary>The vendor voice for a client's name, or null when this model has no such voice.</summary>
    public static string? Resolve(string model, string voice)
    {
        if (IsSambert(model))
        {
            var own = SambertVoice(model);
            return OpenAIVoices.ContainsKey(voice) || string.Equals(voice, own, StringComparison.OrdinalIgnoreCase) ? own : null;
        }
        if (Suffix(model) is not { } suffix)
        {
            return null;
        }
        if (OpenAIVoices.TryGetValue(voice, out var mapped))
        {
            return mapped + suffix;
        }
        var name = voice.ToLowerInvariant();
        if (suffix.Length > 0 && name.EndsWith(suffix, StringComparison.Ordinal))
        {
            name = name[..^suffix.Length];
        }
        return CosyVoiceV1.Contains(name) ? name + suffix : null;
    }

    /// <summary><c>sambert-zhichu-v1</c> → <c>zhichu</c>.</summary>
    private static string SambertVoice(string model)
    {
        var parts = model.Split('-');
        return parts.Length >= 2 ? parts[1].ToLowerInvariant() : model;
    }
}
