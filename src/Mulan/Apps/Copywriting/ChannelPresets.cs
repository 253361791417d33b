namespace Mulan.Apps.Copywriting;

/// <summary>A publishing channel and its real constraints, which generated copy is written and checked against.</summary>
/// <param name="TitleMaxCharacters">the channel's title limit, when it has titles (for english-ad: the headline).</param>
/// <param name="BodyMaxCharacters">the most the body may hold (for english-ad: the description).</param>
/// <param name="SegmentCharacters">SMS: characters of a single-segment message in UCS-2, the encoding Chinese text
/// needs (70); see <see cref="SmsSegments"/> for GSM-7 and concatenated messages.</param>
/// <param name="MaxSegments">SMS: the most segments a message may be billed as.</param>
/// <param name="WideCountsAsTwo">a Chinese (East Asian wide) character counts as two toward the limits, as Taobao's
/// 60-byte title and Google Ads' headline do.</param>
/// <remarks>Characters are Unicode code points (an emoji is one), except SMS segments, which count what the network sends.</remarks>
public sealed record ChannelPreset(string Name, string Label, int? TitleMaxCharacters, int? BodyMaxCharacters, int? SegmentCharacters, string Guidance,
    int? MaxSegments = null, bool WideCountsAsTwo = false);

public static class ChannelPresets
{
    public static IReadOnlyDictionary<string, ChannelPreset> All { get; } = new Dictionary<string, ChannelPreset>(StringComparer.Ordinal)
    {
        ["wechat-article"] = new("wechat-article", "WeChat official account article", 64, 20_000, null,
            "A WeChat article: a title of at most 64 characters, a lead paragraph, short sections."),
        ["weibo"] = new("weibo", "Weibo post", null, 2_000, null, "A Weibo post: lively, one or two hashtags."),
        ["xiaohongshu"] = new("xiaohongshu", "Xiaohongshu note", 20, 1_000, null,
            "A Xiaohongshu note: a title of at most 20 characters, a personal tone, emoji sparingly, hashtags at the end."),
        ["ecommerce-detail"] = new("ecommerce-detail", "E-commerce product detail page", 60, 5_000, null,
            "A product detail page: a title of at most 30 Chinese characters (60 counting each as two), selling points as short lines, specifications.",
            WideCountsAsTwo: true),
        ["sms"] = new("sms", "SMS", null, 500, 70,
            "An SMS: one message of at most 70 characters, the brand in 【】 first, an opt-out note (回T退订) at the end.", MaxSegments: 1),
        ["english-ad"] = new("english-ad", "English ad copy", 30, 90, null,
            "An English search ad: a headline of at most 30 characters and a description of at most 90.", WideCountsAsTwo: true),
    };
}
