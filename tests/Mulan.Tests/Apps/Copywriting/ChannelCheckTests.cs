using Mulan.Apps.Compliance;
using Mulan.Apps.Copywriting;

namespace Mulan.Tests.Apps.Copywriting;

public sealed class ChannelCheckTests
{
    private static ChannelPreset Preset(string name) => ChannelPresets.All[name];

    [Fact]
    public void A_marked_xiaohongshu_title_over_20_characters_is_flagged_from_the_21st()
    {
        var title = new string('春', 25);
        var copy = $"好的，文案如下：\n标题：{title}\n正文：今天分享一款面霜。";
        var finding = Assert.Single(ChannelCheck.Check(copy, Preset("xiaohongshu")));
        Assert.Equal(ChannelCheck.TitleLength, finding.Rule);
        Assert.Equal(copy.IndexOf('春', StringComparison.Ordinal) + 20, finding.Start);
        Assert.Equal(5, finding.Length);
        Assert.Contains("25", finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_first_line_is_the_title_when_unmarked_and_one_line_is_all_body()
    {
        var copy = new string('标', 21) + "\n正文很短。";
        var (title, body) = ChannelCheck.Split(copy, Preset("xiaohongshu"));
        Assert.Equal((0, 21), title);
        Assert.Equal("正文很短。", copy.Substring(body.Start, body.Length));
        Assert.Single(ChannelCheck.Check(copy, Preset("xiaohongshu")));
        Assert.Empty(ChannelCheck.Check(new string('标', 21), Preset("xiaohongshu")));
    }

    [Fact]
    public void Title_limits_of_wechat_and_english_ad()
    {
        Assert.Empty(ChannelCheck.Check("# " + new string('文', 64) + "\n正文", Preset("wechat-article")));
        Assert.Single(ChannelCheck.Check("# " + new string('文', 65) + "\n正文", Preset("wechat-article")));

        var ok = "Headline: " + new string('a', 30) + "\nDescription: " + new string('b', 90);
        Assert.Empty(ChannelCheck.Check(ok, Preset("english-ad")));
        var tooLong = "Headline: " + new string('a', 31) + "\nDescription: " + new string('b', 91);
        Assert.Equal([ChannelCheck.TitleLength, ChannelCheck.BodyLength], ChannelCheck.Check(tooLong, Preset("english-ad")).Select(f => f.Rule));
        // Wide characters count as two in an English ad's headline: 16 of them are 32.
        Assert.Single(ChannelCheck.Check("Headline: " + new string('中', 16) + "\nDescription: ok", Preset("english-ad")));
    }

    [Theory]
    [InlineData(160, "gsm-7", 1)]
    [InlineData(161, "gsm-7", 2)]
    [InlineData(306, "gsm-7", 2)]
    [InlineData(307, "gsm-7", 3)]
    public void Gsm7_segments_hold_160_alone_and_153_each_when_concatenated(int length, string encoding, int segments)
    {
        var sms = SmsSegments.Count(new string('a', length));
        Assert.Equal((encoding, segments), (sms.Encoding, sms.Segments));
    }

    [Theory]
    [InlineData(70, 1)]
    [InlineData(71, 2)]
    [InlineData(134, 2)]
    [InlineData(135, 3)]
    public void Ucs2_segments_hold_70_alone_and_67_each_when_concatenated(int length, int segments)
    {
        var sms = SmsSegments.Count(new string('短', length));
        Assert.Equal(("ucs-2", segments), (sms.Encoding, sms.Segments));
        Assert.Equal(length, sms.Units);
    }

    [Fact]
    public void Extension_characters_take_two_septets_and_one_chinese_character_makes_it_ucs2()
    {
        Assert.Equal(("gsm-7", 160, 1), Ext(SmsSegments.Count(new string('a', 158) + "€")));
        Assert.Equal(("gsm-7", 161, 2), Ext(SmsSegments.Count(new string('a', 159) + "€")));
        Assert.Equal(("ucs-2", 71, 2), Ext(SmsSegments.Count(new string('a', 70) + "中")));
        // An emoji is a surrogate pair: two units, never split between segments.
        var emoji = SmsSegments.Count(new string('中', 66) + "😀" + "中中中");
        Assert.Equal((71, 2, 66), (emoji.Units, emoji.Segments, emoji.SegmentStarts[1]));
        static (string, int, int) Ext(SmsEncoding e) => (e.Encoding, e.Units, e.Segments);
    }

    [Fact]
    public void An_sms_over_one_segment_is_flagged_from_where_the_second_begins()
    {
        var copy = "【木兰】" + new string('惠', 70) + "回T退订";
        var finding = Assert.Single(ChannelCheck.Check(copy, Preset("sms")));
        Assert.Equal(ChannelCheck.SmsSegmentCount, finding.Rule);
        Assert.Equal(67, finding.Start);
        Assert.Equal(copy.Length - 67, finding.Length);
        Assert.Contains("ucs-2", finding.Detail, StringComparison.Ordinal);
        Assert.Empty(ChannelCheck.Check("【木兰】会员日全场八折，回T退订", Preset("sms")));
    }

    [Fact]
    public void The_checker_adds_channel_findings_to_term_findings()
    {
        var findings = new ComplianceChecker().Check("标题：全网第一的面霜真的非常好用推荐给大家每天都在用\n正文：好用。", "xiaohongshu", []);
        Assert.Equal(["absolute-claim", "channel"], findings.Select(f => f.Category).Order());
    }
}
