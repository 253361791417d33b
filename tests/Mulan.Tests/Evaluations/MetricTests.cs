using Mulan.Evaluations;

namespace Mulan.Tests.Evaluations;

/// <summary>The metrics on crafted items whose right answers are known.</summary>
public sealed class MetricTests
{
    [Theory]
    [InlineData("員工每年享有十五天帶薪年假", "15天")] // Traditional answer, Simplified fact in digits
    [InlineData("员工每年享有15天带薪年假", "十五天")]
    [InlineData("费用为 1,000 元", "1000元")]
    [InlineData("费用为一千元", "1,000 元")]
    [InlineData("利率是3.50%", "3.5%")]
    [InlineData("ＡＢＣ　公司", "abc公司")] // full width and case
    [InlineData("Refunds take  5 business-days.", "5 business days")]
    [InlineData("共两万三千人", "23000人")]
    [InlineData("一九九八年成立", "1998年")]
    [InlineData("工資按一點五倍計", "一点五倍")]
    public void Facts_match_across_scripts_widths_and_number_forms(string answer, string fact) =>
        Assert.Equal(1.0, ItemScoring.FactRecall(answer, [fact], ExpectedFactsModes.All));

    [Theory]
    [InlineData("费用为100元", "1000元")]
    [InlineData("利率是3.5%", "35%")]
    [InlineData("十天病假", "十五天")]
    public void Different_numbers_do_not_match(string answer, string fact) =>
        Assert.Equal(0.0, ItemScoring.FactRecall(answer, [fact], ExpectedFactsModes.All));

    [Fact]
    public void All_counts_the_share_found_and_any_needs_one()
    {
        string[] facts = ["十五天", "提前一周", "经理批准"];
        const string answer = "年假十五天，須提前一週申請。";
        Assert.Equal(2.0 / 3, ItemScoring.FactRecall(answer, facts, ExpectedFactsModes.All)!.Value, 6);
        Assert.Equal(1.0, ItemScoring.FactRecall(answer, facts, ExpectedFactsModes.Any));
        Assert.Equal(0.0, ItemScoring.FactRecall("不清楚", facts, ExpectedFactsModes.Any));
        Assert.Null(ItemScoring.FactRecall(answer, null, ExpectedFactsModes.All));
    }

    [Theory]
    [InlineData("十五", 15)]
    [InlineData("十", 10)]
    [InlineData("一百零五", 105)]
    [InlineData("一千零五", 1005)]
    [InlineData("三千二百一十", 3210)]
    [InlineData("两万三千", 23000)]
    [InlineData("十二万", 120000)]
    [InlineData("一亿二千万", 120000000)]
    [InlineData("二〇二六", 2026)]
    public void Chinese_numerals_parse_to_their_value(string text, long value) => Assert.Equal(value, ChineseNumerals.Parse(text));

    [Theory]
    [InlineData("NOT_FOUND", true)]
    [InlineData("知识库中没有找到这个问题的答案。", true)]
    [InlineData("知識庫中沒有找到這個問題的答案。", true)] // the same in Traditional
    [InlineData("抱歉，我无法回答这个问题。", true)]
    [InlineData("I don't know the answer to that.", true)]
    [InlineData("I’m sorry, I cannot answer that.", true)]
    [InlineData("", true)]
    [InlineData("員工每年享有十五天帶薪年假。[1]", false)]
    [InlineData("The refund takes five days.", false)]
    public void Refusals_are_detected_in_both_languages(string answer, bool refused) => Assert.Equal(refused, RefusalDetector.IsRefusal(answer));

    [Fact]
    public void Source_hit_looks_at_the_first_k_citations_by_document_name()
    {
        Assert.Equal(1.0, ItemScoring.SourceHit(["病假", "年假.md"], ["年假"]));
        Assert.Equal(1.0, ItemScoring.SourceHit(["Leave-Policy.PDF"], ["leave-policy.pdf"]));
        Assert.Equal(1.0, ItemScoring.SourceHit(["年假"], ["年假.md"]));
        Assert.Equal(0.0, ItemScoring.SourceHit(["病假", "加班"], ["年假"]));
        Assert.Equal(0.0, ItemScoring.SourceHit(["a", "b", "年假"], ["年假"], k: 2));
        Assert.Null(ItemScoring.SourceHit(["年假"], null));
    }

    private static EvaluationItemResult Item(int i, bool refused, bool shouldRefuse, double? recall, double latency, decimal cost = 0) =>
        new(i, "q" + i, refused ? "NOT_FOUND" : "answer", refused, shouldRefuse, recall, null, [], 6, latency, 10, 5, cost, 0, "USD", null, null, null, null);

    [Fact]
    public void Refusal_precision_and_recall_and_latency_percentiles_come_from_the_items()
    {
        // Two should be refused: one is (true positive), one is answered (false negative); one answerable item is refused (false positive).
        var items = new[]
        {
            Item(0, refused: true, shouldRefuse: true, null, 100),
            Item(1, refused: false, shouldRefuse: true, null, 200),
            Item(2, refused: true, shouldRefuse: false, 0, 300),
            Item(3, refused: false, shouldRefuse: false, 1, 400, 0.25m),
            Item(4, refused: false, shouldRefuse: false, 0.5, 1000, 0.5m),
        };
        var m = RunScoring.Overall(items);
        Assert.Equal(0.5, m[EvaluationMetrics.RefusalPrecision]);
        Assert.Equal(0.5, m[EvaluationMetrics.RefusalRecall]);
        Assert.Equal(0.5, m[EvaluationMetrics.FactRecall]);
        Assert.Equal(300, m[EvaluationMetrics.LatencyP50Ms]);
        Assert.Equal(1000, m[EvaluationMetrics.LatencyP95Ms]);
        Assert.Equal(0.75, m[EvaluationMetrics.Cost]);
        Assert.Null(m[EvaluationMetrics.SourceHit]);
        Assert.Null(RunScoring.Overall([Item(0, false, false, 1, 10)])[EvaluationMetrics.RefusalPrecision]);
    }

    [Fact]
    public void The_judges_reply_is_read_only_when_both_scores_are_in_range()
    {
        Assert.Equal((4.0, 5.0), JudgeRubric.Parse("""{"faithfulness": 4, "relevance": 5}"""));
        Assert.Equal((3.0, 2.0), JudgeRubric.Parse("Scores: faithfulness: 3, relevance: 2"));
        Assert.Null(JudgeRubric.Parse("""{"faithfulness": 9, "relevance": 5}"""));
        Assert.Null(JudgeRubric.Parse("I think it is fine."));
    }

    [Fact]
    public void Bakeoff_normalizes_each_metric_and_inverts_cost_and_latency()
    {
        var at = DateTimeOffset.UnixEpoch;
        EvaluationRun Run(string id) => new(id, "ws", "set", 1, new EvaluationTarget(Model: id), null, null, 1, null, "succeeded", null, 2, at, at, at);
        // a: best recall, most expensive; b: cheap and fast, worse recall; c: between.
        var table = Bakeoff.Rank(
        [
            (Run("a"), [Item(0, false, false, 1, 100, 1m), Item(1, false, false, 1, 100, 1m)]),
            (Run("b"), [Item(0, false, false, 0, 10, 0.1m), Item(1, false, false, 0, 10, 0.1m)]),
            (Run("c"), [Item(0, false, false, 0.5, 50, 0.5m), Item(1, false, false, 0.5, 50, 0.5m)]),
        ], new Dictionary<string, double> { [EvaluationMetrics.FactRecall] = 0.6, [EvaluationMetrics.Cost] = 0.2, [EvaluationMetrics.LatencyP95Ms] = 0.2 });
        Assert.Equal(["a", "c", "b"], table.Rows.Select(r => r.Run));
        Assert.Equal(0.6, table.Rows[0].Score, 6);
        Assert.Equal(1000m, table.Rows[0].CostPer1000Questions);
        Assert.Equal(100m, table.Rows[2].CostPer1000Questions);
        Assert.Equal(1.0, table.Rows[2].Normalized[EvaluationMetrics.Cost]);
        var cheap = Bakeoff.Rank([(Run("a"), [Item(0, false, false, 1, 100, 1m)]), (Run("b"), [Item(0, false, false, 0, 10, 0.1m)])],
            new Dictionary<string, double> { [EvaluationMetrics.Cost] = 1 });
        Assert.Equal("b", cheap.Rows[0].Run);
    }

    [Fact]
    public void Compare_calls_an_item_worse_when_a_quality_score_drops()
    {
        var at = DateTimeOffset.UnixEpoch;
        var a = new EvaluationRun("a", "ws", "set", 1, new EvaluationTarget(Model: "x"), null, null, 1, null, "succeeded", null, 3, at, at, at);
        var b = a with { Id = "b" };
        var cmp = RunComparison.Compare(a, [Item(0, false, false, 1, 10), Item(1, false, false, 0, 10), Item(2, false, false, 0.5, 10)],
            b, [Item(0, false, false, 0.5, 10), Item(1, false, false, 1, 10), Item(2, false, false, 0.5, 99)]);
        Assert.Equal([Verdicts.Worse, Verdicts.Better, Verdicts.Unchanged], cmp.Items.Select(i => i.Verdict));
        Assert.Equal(Verdicts.Worse, cmp.Items[2].Metrics["latencyMs"].Verdict);
        Assert.Equal(1, cmp.Summary[Verdicts.Worse]);
        Assert.Equal(Verdicts.Better, cmp.Metrics[EvaluationMetrics.FactRecall].Verdict);
    }
}
