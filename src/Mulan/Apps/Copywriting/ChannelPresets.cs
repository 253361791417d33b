namespace Mulan.Apps.Copywriting;

/// <summary>A publishing channel and its real constraints, which generated copy is written and checked against.</summary>
/// <param name="TitleMaxCharacters">the channel's title limit, when it has titles.</param>
/// <param name="BodyMaxCharacters">the most the body may hold.</param>
/// <param name="SegmentCharacters">SMS: characters per billed segment.</param>
public sealed record ChannelPreset(string Name, string Label, int? TitleMaxCharacters, int? BodyMaxCharacters, int? SegmentCharacters, string Guidance);

public static class ChannelPresets
{
    public static IReadOnlyDictionary<string, ChannelPreset> All { get; } = new Dictionary<string, ChannelPreset>(StringComparer.Ordinal)
    {
        ["wechat-article"] = new("wechat-article", "WeChat official account article", 64, 20_000, null, "A WeChat article: a title, a lead paragraph, short sections."),
        ["weibo"] = new("weibo", "Weibo post", null, 2_000, null, "A Weibo post: lively, one or two hashtags."),
        ["xiaohongshu"] = new("xiaohongshu", "Xiaohongshu note", 20, 1_000, null, "A Xiaohongshu note: a title of at most 20 characters, a personal tone, emoji sparingly, hashtags at the end."),
        ["ecommerce-detail"] = new("ecommerce-detail", "E-commerce product detail page", 60, 5_000, null, "A product detail page: a title, selling points as short lines, specifications."),
        ["sms"] = new("sms", "SMS", null, 500, 70, "An SMS: one message, the brand in 【】 first, an opt-out note at the end."),
        ["english-ad"] = new("english-ad", "English ad copy", 30, 90, null, "An English search ad: a headline of at most 30 characters and a description of at most 90."),
    };
}
