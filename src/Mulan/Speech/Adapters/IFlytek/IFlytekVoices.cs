using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Mulan.Speech.Adapters.IFlytek;

/// <summary>
/// iFlytek online-TTS speakers (<c>vcn</c>). The five basic voices are the ones the online TTS WebAPI document lists for
/// every APPID; the console's featured voices are named <c>x4_…</c> / <c>x5_…</c> (e.g. <c>x4_yezi</c>,
/// <c>x5_lingxiaotang_flow</c>) and must be opened for the APPID first — the vendor answers an unopened one with 11200.
/// </summary>
public static partial class IFlytekVoices
{
    /// <summary>The basic voices: 小燕 (female, Mandarin and English), 许久 (male), 小萍 (female), 小婧 (female), 许小宝 (child).</summary>
    public static readonly FrozenSet<string> Basic = new[] { "xiaoyan", "aisjiuxu", "aisxping", "aisjinger", "aisbabyxu" }
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>OpenAI's voice names → a basic voice of a like character (female voices for the brighter OpenAI voices).</summary>
    public static readonly FrozenDictionary<string, string> OpenAI = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["alloy"] = "xiaoyan",
        ["ash"] = "aisjiuxu",
        ["ballad"] = "aisjiuxu",
        ["coral"] = "aisjinger",
        ["echo"] = "aisjiuxu",
        ["fable"] = "aisbabyxu",
        ["nova"] = "xiaoyan",
        ["onyx"] = "aisjiuxu",
        ["sage"] = "aisxping",
        ["shimmer"] = "aisjinger",
        ["verse"] = "aisxping",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The vendor's voice for a client's name, or null when it is neither an OpenAI name nor an iFlytek one.</summary>
    public static string? Resolve(string voice)
    {
        if (OpenAI.TryGetValue(voice, out var mapped))
        {
            return mapped;
        }
        return Basic.Contains(voice) || Featured().IsMatch(voice) ? voice : null;
    }

    [GeneratedRegex("^x[45]_[a-z0-9]+(_[a-z0-9]+)*$")]
    private static partial Regex Featured();
}
