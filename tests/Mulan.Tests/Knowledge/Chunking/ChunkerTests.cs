using Mulan.Knowledge.Chunking;

namespace Mulan.Tests.Knowledge.Chunking;

public sealed class ChunkerTests
{
    private static readonly string[] Zh =
    [
        "木兰公司成立于二〇一九年，总部位于杭州。", "员工每年享有十五天带薪年假！", "请假需提前三个工作日在系统中申请？",
        "報銷單據須於當月二十五日前提交；逾期將順延至次月處理。", "出差住宿標準為每晚不超過六百元。",
    ];

    private static readonly string[] En =
    [
        "Mulan was founded in 2019 in Hangzhou. ", "Employees get 15 days of paid leave per year! ", "Version 3.14 of the policy applies, e.g. to contractors. ",
        "Expense claims are due by the 25th of each month; late claims roll over. ", "\"Is remote work allowed?\" Yes, two days a week. ",
    ];

    [Fact]
    public void Sentences_split_on_chinese_and_english_terminators_and_lose_nothing()
    {
        var text = string.Concat(Zh) + " " + string.Concat(En);
        var sentences = Sentences.Split(text);
        Assert.Equal(text, string.Concat(sentences));
        Assert.Equal("木兰公司成立于二〇一九年，总部位于杭州。", sentences[0]);
        Assert.Equal("報銷單據須於當月二十五日前提交；", sentences[3]);
        Assert.Contains("Version 3.14 of the policy applies, e.g. to contractors. ", sentences);
        Assert.Contains("\"Is remote work allowed?\" ", sentences);
    }

    [Theory]
    [InlineData(40, 0)]
    [InlineData(64, 16)]
    [InlineData(128, 32)]
    [InlineData(512, 64)]
    public void No_chunk_exceeds_the_size_and_every_sentence_survives(int max, int overlap)
    {
        var random = new Random(max);
        var blocks = Enumerable.Range(0, 30).Select(i => new TextBlock(
            string.Concat(Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(2) == 0 ? Zh[random.Next(Zh.Length)] : En[random.Next(En.Length)])),
            ["手册", $"第{i / 10}章"], i / 7 + 1)).ToList();
        var chunks = new Chunker(new ChunkingOptions { MaxChars = max, OverlapChars = overlap }).Split(blocks);
        Assert.All(chunks, c => Assert.InRange(c.Text.Length, 1, max));
        var joined = Squash(string.Concat(chunks.Select(c => c.Text)));
        if (overlap == 0)
        {
            Assert.Equal(Squash(string.Concat(blocks.Select(b => b.Text))), joined);
        }
        foreach (var sentence in blocks.SelectMany(b => Sentences.Split(b.Text)))
        {
            Assert.Contains(Squash(sentence), joined);
        }
    }

    private static string Squash(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));

    [Fact]
    public void Chunks_never_span_sections_and_keep_section_and_page()
    {
        var blocks = new[]
        {
            new TextBlock(Zh[0] + Zh[1], ["员工手册", "假期"], 1),
            new TextBlock(Zh[2], ["员工手册", "假期"], 2),
            new TextBlock(En[0], ["员工手册", "Company"], 3),
        };
        var chunks = new Chunker(new ChunkingOptions { MaxChars = 200, OverlapChars = 0 }).Split(blocks);
        Assert.Equal(2, chunks.Count);
        Assert.Equal("员工手册 › 假期", chunks[0].Section);
        Assert.Equal(1, chunks[0].Page);
        Assert.Contains(Zh[2], chunks[0].Text);
        Assert.Equal("员工手册 › Company", chunks[1].Section);
        Assert.Equal(3, chunks[1].Page);
    }

    [Fact]
    public void Breaks_fall_on_sentence_boundaries_and_overlap_repeats_whole_sentences()
    {
        var text = string.Concat(Zh);
        var chunks = new Chunker(new ChunkingOptions { MaxChars = 50, OverlapChars = 30 }).Split([new TextBlock(text, [], null)]);
        Assert.True(chunks.Count > 1);
        var sentences = Sentences.Split(text).Select(s => s.Trim()).ToHashSet();
        foreach (var chunk in chunks)
        {
            // every chunk is a run of whole sentences
            var rebuilt = string.Concat(Sentences.Split(chunk.Text).Select(s => s.Trim()));
            Assert.All(Sentences.Split(chunk.Text).Select(s => s.Trim()), s => Assert.Contains(s, sentences));
            Assert.Equal(chunk.Text.Replace("\n", "", StringComparison.Ordinal), rebuilt);
        }
        Assert.Contains(chunks.Zip(chunks.Skip(1)), pair => Sentences.Split(pair.First.Text).Select(s => s.Trim()).Intersect(Sentences.Split(pair.Second.Text).Select(s => s.Trim())).Any());
    }

    [Fact]
    public void An_overlong_sentence_is_cut_without_splitting_surrogate_pairs()
    {
        var text = string.Concat(Enumerable.Repeat("𠀀中", 100)); // U+20000 is a surrogate pair
        var chunks = new Chunker(new ChunkingOptions { MaxChars = 33, OverlapChars = 0 }).Split([new TextBlock(text, [], null)]);
        Assert.All(chunks, c => Assert.False(char.IsHighSurrogate(c.Text[^1])));
        Assert.Equal(text, string.Concat(chunks.Select(c => c.Text)));
    }
}
