using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Tests.Knowledge.Keyword;

public sealed class TextAnalyzerTests
{
    private static List<string> Terms(ITextAnalyzer analyzer, string text)
    {
        var terms = new List<string>();
        analyzer.Analyze(text, terms);
        return terms;
    }

    [Fact]
    public void Default_SimplifiedAndTraditional_GiveTheSameTerms()
    {
        Assert.Equal(Terms(TextAnalyzers.Default, "臺灣的軟體產業發展"), Terms(TextAnalyzers.Default, "台湾的软体产业发展"));
    }

    [Fact]
    public void Default_ChineseRun_GivesUnigramsAndBigrams()
    {
        Assert.Equal(["资", "料", "库", "资料", "料库"], Terms(TextAnalyzers.Default, "資料庫"));
    }

    [Fact]
    public void Default_MixedText_KeepsEnglishWordsAndNumbers()
    {
        var terms = Terms(TextAnalyzers.Default, "iPhone 15 Pro的價格是NT$36,900元，COVID-19疫情期間3.5折");

        Assert.Contains("iphon", terms);
        Assert.Contains("15", terms);
        Assert.Contains("pro", terms);
        Assert.Contains("nt", terms);
        Assert.Contains("36900", terms);
        Assert.Contains("covid", terms);
        Assert.Contains("19", terms);
        Assert.Contains("3.5", terms);
        Assert.Contains("价格", terms);
        Assert.Contains("疫情", terms);
        Assert.DoesNotContain(terms, t => t.Contains('$') || t.Contains('，'));
    }

    [Fact]
    public void Default_LettersAndDigits_SplitSoThatSpellingsMatch()
    {
        Assert.Equal(Terms(TextAnalyzers.Default, "COVID-19"), Terms(TextAnalyzers.Default, "covid19"));
    }

    [Fact]
    public void Default_FullWidthText_MatchesHalfWidth()
    {
        Assert.Equal(Terms(TextAnalyzers.Default, "GPT-4 API 2024年"), Terms(TextAnalyzers.Default, "ＧＰＴ－４　ＡＰＩ　２０２４年"));
    }

    [Fact]
    public void Default_English_IsStemmedWithoutStopWords()
    {
        Assert.Equal(["connect", "connect", "connect", "network"], Terms(TextAnalyzers.Default, "The connections, connected AND connecting of a network"));
    }

    [Fact]
    public void Default_Possessive_IsDropped()
    {
        Assert.Equal(["denver", "defens"], Terms(TextAnalyzers.Default, "Denver's defense"));
    }

    [Fact]
    public void Default_AstralCharacters_MakeUnigramsAndBigrams()
    {
        Assert.Equal(["𠮷", "野", "家", "𠮷野", "野家"], Terms(TextAnalyzers.Default, "𠮷野家"));
    }

    [Fact]
    public void Default_Kana_IsTreatedLikeChinese()
    {
        Assert.Contains("すし", Terms(TextAnalyzers.Default, "すし"));
    }

    [Fact]
    public void Bigram_DoesNotFold_SoScriptsDoNotMatch()
    {
        Assert.Empty(Terms(TextAnalyzers.Bigram, "臺灣").Intersect(Terms(TextAnalyzers.Bigram, "台湾")));
        Assert.Equal(["台灣", "灣的"], Terms(TextAnalyzers.Bigram, "台灣的"));
    }

    [Fact]
    public void Bigram_LoneCharacter_IsKeptAsAUnigram()
    {
        Assert.Equal(["我", "the", "cats"], Terms(TextAnalyzers.Bigram, "我 The Cats"));
    }

    [Fact]
    public void Analyze_PunctuationAndSpaceOnly_GivesNothing()
    {
        Assert.Empty(Terms(TextAnalyzers.Default, " ，。！？ -- ... "));
    }

    [Fact]
    public void Analyze_LongText_UsesAPooledBuffer()
    {
        var text = string.Concat(Enumerable.Repeat("資料庫 ", 1000));
        Assert.Equal(5000, Terms(TextAnalyzers.Default, text).Count);
    }

    [Fact]
    public void Analyze_OverlongWord_IsDropped()
    {
        Assert.Equal(["short"], Terms(TextAnalyzers.Default, new string('x', 100) + " short"));
    }

    [Theory]
    [InlineData("caresses", "caress")]
    [InlineData("ponies", "poni")]
    [InlineData("agreed", "agre")]
    [InlineData("hopping", "hop")]
    [InlineData("filing", "file")]
    [InlineData("happy", "happi")]
    [InlineData("relational", "relat")]
    [InlineData("vietnamization", "vietnam")]
    [InlineData("sensibiliti", "sensibl")]
    [InlineData("generalizations", "gener")]
    [InlineData("adoption", "adopt")]
    [InlineData("is", "is")]
    public void PorterStemmer_MatchesTheReferenceAlgorithm(string word, string stem)
    {
        var buffer = word.ToCharArray();
        Assert.Equal(stem, new string(buffer, 0, PorterStemmer.Stem(buffer)));
    }

    [Fact]
    public void ByName_IsCaseInsensitive_AndDefaultIsRegistered()
    {
        Assert.Same(TextAnalyzers.Default, TextAnalyzers.ByName(TextAnalyzers.Default.Name.ToUpperInvariant()));
        Assert.Contains(TextAnalyzers.Default.Name, TextAnalyzers.Names);
        Assert.All(TextAnalyzers.Names, name => Assert.Equal(name, TextAnalyzers.ByName(name).Name));
    }

    [Fact]
    public void ByName_Unknown_ListsTheKnownNames()
    {
        var error = Assert.Throws<ArgumentException>(() => TextAnalyzers.ByName("nope"));
        Assert.Contains(TextAnalyzers.Default.Name, error.Message);
    }

    [Fact]
    public void Words_WithoutSegmenter_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new MixedTextAnalyzer("w", new() { Cjk = CjkTerms.Words }));
    }

    [Fact]
    public void Words_ComeFromTheSegmenter_AfterFolding()
    {
        var segmenter = new SplitInTwo();
        var analyzer = new MixedTextAnalyzer("words", new() { Cjk = CjkTerms.Words, Segmenter = segmenter });

        Assert.Equal(["资料", "库"], Terms(analyzer, "資料庫"));
        Assert.Equal(["资料库"], segmenter.Seen);
    }

    /// <summary>A stand-in segmenter: the first two characters, then the rest.</summary>
    private sealed class SplitInTwo : IWordSegmenter
    {
        public List<string> Seen { get; } = [];

        public string Name => "split";

        public void Segment(string run, List<string> words)
        {
            Seen.Add(run);
            words.Add(run[..Math.Min(2, run.Length)]);
            if (run.Length > 2)
            {
                words.Add(run[2..]);
            }
        }
    }
}
