using System.Diagnostics;
using Mulan.Apps.Compliance;
using Mulan.Knowledge.Indexing.Keyword;
using Xunit.Abstractions;

namespace Mulan.Tests.Apps.Compliance;

public sealed class ComplianceCheckerTests(ITestOutputHelper output)
{
    private static readonly ComplianceChecker Checker = new();

    private static IReadOnlyList<ComplianceFinding> Check(string text, IReadOnlyList<ComplianceRule>? rules = null) => Checker.Check(text, null, rules ?? []);

    private const string Article9 = "《广告法》第九条第三项：广告不得使用“国家级”、“最高级”、“最佳”等用语";

    [Fact]
    public void Mixed_script_copy_gives_exact_positions_rules_and_suggestions_in_the_script_of_each_term()
    {
        const string text = "全网第一的國家級護膚品，根治痘痘，無副作用";
        var findings = Check(text);

        Assert.Equal(
        [
            ("全网第一", 0, 4, "absolute-claim", "广受欢迎"),
            ("國家級", 5, 3, "absolute-claim", "專業級"),
            // 根治 is the same in both scripts: the Traditional 膚 before it decides.
            ("根治", 12, 2, "efficacy-claim", "幫助緩解"),
            ("無副作用", 17, 4, "efficacy-claim", "溫和"),
        ], findings.Select(f => (f.Term, f.Start, f.Length, f.Category, f.Suggestion)));
        Assert.Equal(Article9, findings[0].Rule);
        Assert.StartsWith("《广告法》第十六条", findings[2].Rule, StringComparison.Ordinal);

        var rewritten = ComplianceChecker.Rewrite(text, findings);
        Assert.Equal("广受欢迎的專業級護膚品，幫助緩解痘痘，溫和", rewritten);
        Assert.Empty(Check(rewritten));
    }

    [Fact]
    public void Full_width_and_case_do_not_hide_a_term()
    {
        var findings = Check("好评率１００％，销量ＮＯ．１");
        Assert.Equal([("１００％", 3, 4), ("ＮＯ．１", 10, 4)], findings.Select(f => (f.Term, f.Start, f.Length)));
    }

    [Theory]
    [InlineData("第一次使用，第一步先清洁，第一天就习惯了")]
    [InlineData("第一章 产品介绍；第一时间发货")]
    [InlineData("與其他款唯一的區別是顏色")]
    [InlineData("100%纯棉T恤，面料100%羊毛")]
    [InlineData("价格上涨了1100%")]
    [InlineData("你最好先试用小样")]
    [InlineData("Bestseller of the season. Best regards, the team")]
    public void Ordinary_uses_are_not_flagged(string text) => Assert.Empty(Check(text));

    [Fact]
    public void A_claim_next_to_an_exception_is_still_flagged()
    {
        var findings = Check("第一次用就是全网第一，100%有效");
        Assert.Equal([("全网第一", 6, 4, "广受欢迎"), ("100%", 11, 4, "高度")], findings.Select(f => (f.Term, f.Start, f.Length, f.Suggestion)));
    }

    [Fact]
    public void English_terms_match_at_word_boundaries_and_keep_their_capitalisation()
    {
        const string text = "Best serum ever: cures acne. Guaranteed results, No. 1 in Europe, 100% effective.";
        var findings = Check(text);
        Assert.Equal(
        [
            ("Best", 0, 4, "Excellent"),
            ("cures", 17, 5, "helps relieve"),
            ("Guaranteed", 29, 10, null),
            ("No. 1", 49, 5, "Leading"),
            ("100% effective", 66, 14, "effective for many users"),
        ], findings.Select(f => (f.Term, f.Start, f.Length, f.Suggestion)));
        Assert.Equal("Excellent serum ever: helps relieve acne. Guaranteed results, Leading in Europe, effective for many users.",
            ComplianceChecker.Rewrite(text, findings));
    }

    [Fact]
    public void Overlapping_terms_resolve_longest_first()
    {
        var findings = Check("这款药疗效最佳");
        var finding = Assert.Single(findings);
        Assert.Equal(("疗效最佳", 3, 4), (finding.Term, finding.Start, finding.Length));
    }

    [Fact]
    public void Every_built_in_term_is_found_in_both_scripts()
    {
        var missed = new List<string>();
        foreach (var term in Checker.BuiltIn.SelectMany(r => r.Terms))
        {
            foreach (var form in new[] { term, ChineseScript.ToTraditional(term), ChineseScript.ToSimplified(term) }.Distinct())
            {
                var found = Check(form);
                if (!found.Any(f => f.Start == 0 && f.Length == form.Length))
                {
                    missed.Add(form);
                }
            }
        }
        Assert.True(missed.Count == 0, "not found whole: " + string.Join(", ", missed));
    }

    [Fact]
    public void Every_built_in_suggestion_is_itself_clean()
    {
        var flagged = Checker.BuiltIn.Where(r => r.Suggestion is not null)
            .SelectMany(r => new[] { r.Suggestion!, ChineseScript.ToTraditional(r.Suggestion!) })
            .Where(s => Check(s).Count > 0).ToList();
        Assert.Empty(flagged);
    }

    [Fact]
    public void Workspace_rules_add_terms_and_exceptions_and_take_precedence()
    {
        IReadOnlyList<ComplianceRule> rules =
        [
            new(["竞品甲"], "competitor", "不得提及竞品", "同类产品"),
            new(["第一"], "brand", "本品牌规则", "前列", ["第一坊"]),
        ];
        var findings = Check("第一坊出品，比競品甲好，行业第一", rules);
        Assert.Equal([("競品甲", 7, 3, "competitor", "同類產品"), ("行业第一", 12, 4, "absolute-claim", "广受欢迎")],
            findings.Select(f => (f.Term, f.Start, f.Length, f.Category, f.Suggestion)));
        var own = Assert.Single(Check("我们第一", rules));
        Assert.Equal(("brand", "前列"), (own.Category, own.Suggestion));
    }

    [Fact]
    public void An_unknown_channel_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Checker.Check("文案", "tiktok", []));
        Assert.Contains("tiktok", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ten_thousand_characters_check_in_one_pass()
    {
        var dense = Repeat("这款國家級面霜，第一次使用就感到滋润。The best cream, 100% natural. 根治干燥，无副作用。");
        var plain = Repeat("今天天气很好，我们去公园散步，看见湖边的柳树发了新芽。We walked along the river in the afternoon. ");
        Assert.True(Check(dense).Count > 500);
        Assert.Empty(Check(plain));
        foreach (var (name, text) in new[] { ("no findings", plain), ("dense", dense) })
        {
            var count = Check(text).Count;
            for (var i = 0; i < 100; i++)
            {
                Check(text); // warm up (tiered compilation)
            }
            var watch = Stopwatch.StartNew();
            const int Rounds = 200;
            for (var i = 0; i < Rounds; i++)
            {
                Assert.Equal(count, Check(text).Count);
            }
            output.WriteLine($"10,000 characters, {name} ({count} findings): {watch.Elapsed.TotalMilliseconds / Rounds:0.000} ms a check");
        }

        static string Repeat(string chunk) => string.Concat(Enumerable.Repeat(chunk, 10_000 / chunk.Length + 1))[..10_000];
    }
}
