using Mulan.Knowledge.Answering;
using Mulan.Knowledge.Retrieval;

namespace Mulan.Tests.Knowledge.Answering;

public sealed class CitationMarkerTests
{
    private const char Nbsp = CitationMarkers.NoBreakSpace;

    [Theory]
    [InlineData("Fifteen days [1].", "Fifteen days\u00A0[1].")]
    [InlineData("Fifteen days[1].", "Fifteen days\u00A0[1].")]
    [InlineData("Fifteen days  \t[1] [2][3].", "Fifteen days\u00A0[1]\u00A0[2]\u00A0[3].")]
    [InlineData("员工每年享有十五天带薪年假。[1]", "员工每年享有十五天带薪年假。\u00A0[1]")]
    [InlineData("[1] leads.", "[1] leads.")]
    public void Attach_joins_every_marker_to_what_precedes_it(string text, string expected) =>
        Assert.Equal(expected, CitationMarkers.Attach(text));

    public static TheoryData<string> Answers => new()
    {
        "Employees may work remotely two days a week.\u00A0[1] The office opens at 8:30 and closes at 19:00.\u00A0[2] Claims are due by the twenty-fifth.\u00A0[3]",
        "员工每年享有十五天带薪年假。\u00A0[1]请假需提前三个工作日在系统中申请。\u00A0[1]报销单据须于当月二十五日前提交，逾期将顺延至次月处理。\u00A0[2]出差住宿标准为每晚不超过六百元。\u00A0[3]",
        "員工每年享有十五天帶薪年假，入職滿一年後每年增加一天，最多二十天。\u00A0[12]",
        "Mixed 中文 and English: 年假十五天。\u00A0[1] Remote work two days.\u00A0[2]",
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void Wrapping_at_any_width_never_puts_a_marker_at_the_start_of_a_line(string answer)
    {
        for (var width = 4; width <= 90; width++)
        {
            var lines = CitationMarkers.Wrap(answer, width);
            foreach (var line in lines)
            {
                Assert.False(line.StartsWith('['), $"width {width}: a line starts with a marker: '{line}'");
                Assert.False(line.StartsWith(Nbsp) || line.EndsWith(Nbsp), $"width {width}: broke at a no-break space: '{line}'");
                Assert.False(line.StartsWith('。') || line.StartsWith('，'), $"width {width}: a line starts with closing punctuation: '{line}'");
                // A line is only ever wider than the width when one unbreakable piece is.
                Assert.True(Cells(line) <= width || !line.Contains(' ', StringComparison.Ordinal) && line.Count(IsCjk) <= 1,
                    $"width {width}: '{line}' is {Cells(line)} cells");
            }
            // Nothing is lost or reordered: only the spaces a line was broken at are dropped.
            Assert.Equal(answer.Replace(" ", "", StringComparison.Ordinal), string.Concat(lines).Replace(" ", "", StringComparison.Ordinal));
            Assert.Equal(CitationMarkers.In(answer), CitationMarkers.In(string.Join("\n", lines)));
        }
    }

    [Fact]
    public void Chinese_text_without_spaces_wraps_between_characters_keeping_markers_on_their_sentence()
    {
        var lines = CitationMarkers.Wrap("员工每年享有十五天带薪年假。\u00A0[1]请假需提前三个工作日申请。\u00A0[2]", 20);
        Assert.True(lines.Count > 1);
        Assert.All(lines, l => Assert.True(Cells(l) <= 20, l));
        Assert.Contains(lines, l => l.Contains("年假。\u00A0[1]", StringComparison.Ordinal) || l.EndsWith("。\u00A0[1]", StringComparison.Ordinal));
    }

    private static bool IsCjk(char c) => c is >= '\u3400' and <= '\u9fff';

    private static int Cells(string s) => s.Sum(c => c is >= '\u2e80' and <= '\ua4cf' or >= '\uff00' and <= '\uff60' ? 2 : 1);

    private static SearchResult Result(long id, string text) =>
        new(new IndexedChunk(id, "kb", "doc", "Handbook", text, null, null), 1, new SearchExplanation(1, 1, [], null, null, 1));

    [Theory]
    [InlineData("You get fifteen days.")] // no marker at all
    [InlineData("You get fifteen days [3].")] // a marker naming no source
    [InlineData("You get fifteen days [0][9].")]
    public void A_model_reply_citing_no_real_source_is_not_found(string reply)
    {
        var answer = GroundedAnswerer.Interpret("How many days?", reply, [Result(1, "Fifteen days."), Result(2, "Twenty days.")]);
        Assert.False(answer.Found);
        Assert.Empty(answer.Citations);
        Assert.NotNull(answer.Warning);
        Assert.DoesNotContain("[", answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_reply_lists_exactly_the_sources_it_cites_attached_to_their_sentences()
    {
        var results = new[] { Result(1, "a"), Result(2, "b"), Result(3, "c") };
        var answer = GroundedAnswerer.Interpret("q", "年假十五天 [3]。报销二十五日前[1] [5]。", results);
        Assert.True(answer.Found);
        Assert.Equal([1, 3], answer.Citations.Select(c => c.Marker).Order());
        Assert.Equal([3L, 1L], answer.Citations.OrderByDescending(c => c.Marker).Select(c => c.Chunk.Id));
        Assert.Equal("年假十五天\u00A0[3]。报销二十五日前\u00A0[1]。", answer.Text);
    }

    [Fact]
    public void Grounded_drops_citations_whose_marker_is_not_in_the_text_and_unfounds_an_answer_left_with_none()
    {
        var chunk = Result(1, "x").Chunk;
        var partly = new Answer("Fifteen days\u00A0[1].", true, [new Citation(1, chunk), new Citation(2, chunk)], "extractive").Grounded("q");
        Assert.True(partly.Found);
        Assert.Equal([1], partly.Citations.Select(c => c.Marker));
        var none = new Answer("Fifteen days.", true, [new Citation(1, chunk)], "extractive").Grounded("年假？");
        Assert.False(none.Found);
        Assert.Empty(none.Citations);
        Assert.Contains("知识库", none.Text, StringComparison.Ordinal);
    }
}
