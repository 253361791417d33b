using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Tests.Knowledge.Keyword;

public sealed class CharacterFoldingTests
{
    [Theory]
    [InlineData("臺灣的資料庫與軟體", "台湾的资料库与软体")]
    [InlineData("頭髮", "头发")]
    [InlineData("發展", "发展")]
    [InlineData("乾燥", "干燥")]
    [InlineData("幹部", "干部")]
    [InlineData("以後", "以后")]
    [InlineData("裡面", "里面")]
    [InlineData("裏面", "里面")]
    [InlineData("爲什麼", "为什么")]
    [InlineData("為什麽", "为什么")]
    [InlineData("颱風", "台风")]
    [InlineData("鐘錶", "钟表")]
    public void Fold_TraditionalAndSimplified_FoldToTheSameText(string traditional, string simplified)
    {
        Assert.Equal(CharacterFolding.Fold(simplified), CharacterFolding.Fold(traditional));
    }

    [Fact]
    public void Fold_SimplifiedText_IsUnchanged()
    {
        Assert.Equal("台湾的首都是台北市", CharacterFolding.Fold("台湾的首都是台北市"));
    }

    [Theory]
    [InlineData("ＡＢＣ１２３！", "abc123!")]
    [InlineData("ＧＰＴ－４ｏ", "gpt-4o")]
    [InlineData("\u3000全形空白", " 全形空白")]
    [InlineData("Café ÉCOLE Straße", "cafe ecole strasse")]
    [InlineData("ﬁle", "file")]
    [InlineData("①②", "12")]
    [InlineData("㈱", "(株)")]
    [InlineData("\U0001D400\U0001D401", "ab")]
    public void Fold_CompatibilityCaseAndWidth_AreNormalized(string text, string expected)
    {
        Assert.Equal(expected, CharacterFolding.Fold(text));
    }

    [Fact]
    public void Fold_CompatibilityIdeograph_FoldsLikeTheUnifiedOne()
    {
        Assert.Equal(CharacterFolding.Fold("\u8C48"), CharacterFolding.Fold("\uF900"));
        Assert.Equal("岂", CharacterFolding.Fold("\uF900"));
    }

    [Fact]
    public void Fold_AstralIdeographs_SurviveIntact()
    {
        Assert.Equal("𠮷野家", CharacterFolding.Fold("𠮷野家"));
    }

    [Fact]
    public void Fold_LoneSurrogate_IsKept()
    {
        Assert.Equal("a\uD800b", CharacterFolding.Fold("A\uD800B"));
    }

    [Fact]
    public void Fold_EveryBmpCharacter_IsIdempotent()
    {
        for (var c = 0; c <= char.MaxValue; c++)
        {
            if (char.IsSurrogate((char)c))
            {
                continue;
            }

            var once = CharacterFolding.Fold(((char)c).ToString());
            Assert.True(once == CharacterFolding.Fold(once), $"U+{c:X4} folds to {once}, which folds further");
        }
    }

    [Fact]
    public void Fold_LongText_GrowsItsBuffer()
    {
        var text = string.Concat(Enumerable.Repeat("㍿", 2000));
        Assert.Equal(string.Concat(Enumerable.Repeat("株式会社", 2000)), CharacterFolding.Fold(text));
    }

    [Theory]
    [InlineData("臺灣的軟體發展", "台湾的软体发展")]
    [InlineData("後來", "后来")]
    public void ToSimplified_UsesOpenCcDefaults(string traditional, string simplified)
    {
        Assert.Equal(simplified, ChineseScript.ToSimplified(traditional));
    }

    [Fact]
    public void ToTraditional_UsesOpenCcDefaults()
    {
        Assert.Equal("臺灣的軟體發展", ChineseScript.ToTraditional("台湾的软体发展"));
    }

    [Fact]
    public void ToSimplified_LeavesOtherTextAlone()
    {
        const string text = "English, 123 and ＦＵＬＬ width";
        Assert.Equal(text, ChineseScript.ToSimplified(text));
        Assert.Equal(text, ChineseScript.ToTraditional(text));
    }
}
