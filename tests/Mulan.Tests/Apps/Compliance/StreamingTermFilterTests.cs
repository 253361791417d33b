using System.Text;
using Mulan.Apps.Compliance;

namespace Mulan.Tests.Apps.Compliance;

public sealed class StreamingTermFilterTests
{
    private static readonly ComplianceChecker Checker = new();

    public static TheoryData<string> Samples =>
    [
        "全网第一的國家級護膚品，根治痘痘，無副作用",
        "第一次用就是全网第一，100%有效，100%纯棉",
        "Best serum: cures acne. Guaranteed, No. 1 in Europe! bestseller, Best regards",
        "这款药疗效最佳，最好先咨询医生。顶级域名不是顶级",
    ];

    /// <summary>What the filter must produce whatever the split: the batch rewrite, and each finding where its replacement landed.</summary>
    private static (string Output, List<(string Term, int Start, int Length)> Findings) Expected(string text)
    {
        var findings = Checker.Check(text, null, []);
        var positions = new List<(string, int, int)>();
        var shift = 0;
        foreach (var f in findings)
        {
            var released = f.Suggestion ?? f.Term;
            positions.Add((f.Term, f.Start + shift, released.Length));
            shift += released.Length - f.Length;
        }
        return (ComplianceChecker.Rewrite(text, findings), positions);
    }

    private static (string Output, List<(string, int, int)> Findings) Stream(IEnumerable<string> deltas)
    {
        var filter = StreamingTermFilter.Rewriting(Checker.TermsFor([]));
        var output = new StringBuilder();
        foreach (var d in deltas)
        {
            output.Append(filter.Push(d));
        }
        output.Append(filter.Flush());
        return (output.ToString(), [.. filter.Findings.Select(f => (f.Term, f.Start, f.Length))]);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_split_point_gives_the_batch_rewrite(string text)
    {
        var (output, findings) = Expected(text);
        Assert.NotEmpty(findings);
        for (var i = 0; i <= text.Length; i++)
        {
            var streamed = Stream([text[..i], text[i..]]);
            Assert.True(output == streamed.Output, $"split at {i}: {streamed.Output}");
            Assert.Equal(findings, streamed.Findings);
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_pair_of_split_points_and_one_character_at_a_time_give_the_batch_rewrite(string text)
    {
        var expected = Expected(text);
        for (var i = 0; i <= text.Length; i++)
        {
            for (var j = i; j <= text.Length; j++)
            {
                var streamed = Stream([text[..i], text[i..j], text[j..]]);
                Assert.True(expected.Output == streamed.Output, $"split at {i}, {j}: {streamed.Output}");
                Assert.Equal(expected.Findings, streamed.Findings);
            }
        }
        var single = Stream(text.Select(c => c.ToString()));
        Assert.Equal(expected.Output, single.Output);
        Assert.Equal(expected.Findings, single.Findings);
    }

    [Fact]
    public void Banned_terms_are_masked_with_as_many_stars_across_any_split()
    {
        const string text = "这是竞品A的坏词，还有竞品A。";
        for (var i = 0; i <= text.Length; i++)
        {
            var filter = StreamingTermFilter.Masking(["竞品A", "坏词"]);
            var output = filter.Push(text[..i]) + filter.Push(text[i..]) + filter.Flush();
            Assert.Equal("这是＊＊＊的＊＊，还有＊＊＊。", output);
            Assert.Equal([("竞品A", 2, 3), ("坏词", 6, 2), ("竞品A", 11, 3)], filter.Findings.Select(f => (f.Term, f.Start, f.Length)));
            Assert.All(filter.Findings, f => Assert.Equal(StreamingTermFilter.BannedTermCategory, f.Category));
        }
    }

    [Fact]
    public void Only_a_possible_beginning_of_a_term_is_held_back()
    {
        var filter = StreamingTermFilter.Masking(["竞品A"]);
        // Nothing here can begin the term: released at once.
        Assert.Equal("普通的文字，", filter.Push("普通的文字，"));
        // "竞品" may become the term: held; the rest is released.
        Assert.Equal("这是", filter.Push("这是竞品"));
        Assert.Equal("竞品B", filter.Push("B"));
        Assert.Equal("", filter.Push("竞"));
        // Ending in a letter, the term needs a word boundary: the next character decides.
        Assert.Equal("", filter.Push("品A"));
        Assert.Equal("＊＊＊。", filter.Push("。"));
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void A_word_term_at_the_end_waits_for_the_next_character()
    {
        var filter = StreamingTermFilter.Rewriting(Checker.TermsFor([]));
        Assert.Equal("the ", filter.Push("the best"));
        Assert.Equal("bestseller ", filter.Push("seller "));
        Assert.Equal("", filter.Push("best"));
        Assert.Equal("excellent", filter.Flush());
    }

    [Fact]
    public void Held_back_text_never_exceeds_the_longest_term_on_text_without_candidates()
    {
        var filter = StreamingTermFilter.Rewriting(Checker.TermsFor([]));
        var pushed = 0;
        var released = 0;
        foreach (var c in "今天天气很好，我们去公园散步吧。阳光明媚，心情愉快。")
        {
            pushed++;
            released += filter.Push(c.ToString()).Length;
            Assert.InRange(pushed - released, 0, filter.MaxHeldBack - 1);
        }
    }
}
