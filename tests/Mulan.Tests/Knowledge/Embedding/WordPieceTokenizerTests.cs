using Mulan.Knowledge.Embedding.Local;

namespace Mulan.Tests.Knowledge.Embedding;

public sealed class WordPieceTokenizerTests
{
    // Loading the vocabulary reads 260 KB out of the model DLL; one copy serves every test.
    private static readonly Lazy<WordPieceTokenizer> Shared = new(LocalSentenceEncoder.LoadTokenizer);

    private static WordPieceTokenizer Tokenizer => Shared.Value;

    public static TheoryData<int> HuggingFaceCaseIndexes => [.. Enumerable.Range(0, HuggingFaceTokenizerCases.All.Length)];

    [Fact]
    public void Vocabulary_IsBertBaseUncased()
    {
        Assert.Equal(30522, Tokenizer.VocabularySize);
        Assert.Equal(0, Tokenizer.PaddingId);
        Assert.Equal(100, Tokenizer.UnknownId);
        Assert.Equal(101, Tokenizer.ClassId);
        Assert.Equal(102, Tokenizer.SeparatorId);
    }

    [Theory]
    [MemberData(nameof(HuggingFaceCaseIndexes))]
    public void Encode_GivesTheIdsOfHuggingFacesTokenizer(int index)
    {
        var (text, ids) = HuggingFaceTokenizerCases.All[index];

        Assert.Equal(ids, Tokenizer.Encode(text, HuggingFaceTokenizerCases.MaxTokens));
    }

    [Theory]
    [InlineData("hello world", new[] { 101, 7592, 2088, 102 })]
    [InlineData("Hello, world!", new[] { 101, 7592, 1010, 2088, 999, 102 })]
    [InlineData("unaffable", new[] { 101, 14477, 20961, 3468, 102 })]
    [InlineData("", new[] { 101, 102 })]
    public void Encode_English_GivesPinnedBertIds(string text, int[] expected)
    {
        Assert.Equal(expected, Tokenizer.Encode(text, 256));
    }

    [Fact]
    public void Encode_ChineseIdeographs_AreEachTheirOwnVocabularyEntry()
    {
        // The tokenizer inside the model's package drops these; BERT gives each ideograph its own token.
        Assert.Equal([101, 1746, 1861, 102], Tokenizer.Encode("中文", 256));
        Assert.Equal(["中", "文", "和", "english"], Tokenizer.Tokenize("中文和English"));
    }

    [Fact]
    public void Encode_IdeographsMissingFromTheVocabulary_BecomeOneUnknownEach()
    {
        // This English vocabulary has only a few hundred ideographs; the rest must stay one [UNK] apiece (not be dropped
        // and not glue their neighbours into one unknown word), so sentence length and the known characters survive.
        Assert.Equal(["[UNK]", "[UNK]", "中", "文", "[UNK]"], Tokenizer.Tokenize("密码中文置"));
    }

    [Theory]
    [InlineData("Héllo Wörld naïve café", "hello world naive cafe")]
    [InlineData("ÉCOLE Ångström", "ecole angstrom")]
    [InlineData("e\u0301", "e")]
    public void Tokenize_StripsAccentsAndLowercases(string text, string plain)
    {
        Assert.Equal(Tokenizer.Tokenize(plain), Tokenizer.Tokenize(text));
    }

    [Fact]
    public void Tokenize_SplitsPunctuation_AsciiAndCjk()
    {
        Assert.Equal(["don", "'", "t", "stop", "-", "believing", "!"], Tokenizer.Tokenize("don't stop-believing!"));
        // "$", "^" and "`" are symbols to Unicode but punctuation to BERT.
        Assert.Equal(["$", "5", "^", "`", "x", "`"], Tokenizer.Tokenize("$5^`x`"));
        Assert.Equal(["「", "中", "」", "，", "。"], Tokenizer.Tokenize("「中」，。"));
    }

    [Fact]
    public void Tokenize_DropsControlAndFormatCharacters_AndTreatsUnicodeSpacesAsSpaces()
    {
        Assert.Equal(["ab", "ce"], Tokenizer.Tokenize("a\u200Bb c\u00E9\u0000"));
        Assert.Equal(["a", "b", "c", "d"], Tokenizer.Tokenize("a\u3000b\u00A0c\td"));
    }

    [Fact]
    public void Encode_LongText_KeepsTheFirstPiecesAndEndsWithSep()
    {
        var text = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"word{i}"));
        var all = Tokenizer.Encode(text, int.MaxValue);

        var ids = Tokenizer.Encode(text, 16);

        Assert.Equal(16, ids.Length);
        Assert.Equal(Tokenizer.ClassId, ids[0]);
        Assert.Equal(Tokenizer.SeparatorId, ids[^1]);
        Assert.Equal(all[..15], ids[..15]);
    }

    [Fact]
    public void Encode_TruncationInsideAWord_KeepsItsLeadingPieces()
    {
        // "unaffable" is una ##ffa ##ble: with room for two pieces, the first two stay, as in Hugging Face.
        Assert.Equal([101, 14477, 20961, 102], Tokenizer.Encode("unaffable", 4));
    }

    [Fact]
    public void Encode_WordOverOneHundredCharacters_IsOneUnknown()
    {
        Assert.Equal([101, 100, 102], Tokenizer.Encode(new string('a', 101), 256));
        Assert.DoesNotContain(100, Tokenizer.Encode(new string('a', 100), 256));
    }

    [Fact]
    public void Encode_SpecialTokenLiterals_AreOrdinaryText()
    {
        // Hugging Face would read "[SEP]" in the text as the separator; a document must not be able to do that.
        Assert.Equal(["[", "sep", "]"], Tokenizer.Tokenize("[SEP]"));
    }

    [Fact]
    public void Encode_RejectsABudgetWithoutRoomForClsAndSep()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode("x", 1));
    }

    [Fact]
    public void WordPiece_MatchesTheLongestPieceFirst_AndAnUnmatchablePieceMakesTheWordUnknown()
    {
        var tokenizer = WordPieceTokenizer.FromVocab(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]\r", "un", "una", "##ff", "##ffa", "##a", "##ble", "b"]);

        // "una" beats "un", then "##ffa" beats "##ff"; the '\r' of a CRLF vocabulary is not part of "[SEP]".
        Assert.Equal([2, 5, 7, 9, 3], tokenizer.Encode("unaffable", 16));
        Assert.Equal(["[UNK]", "b"], tokenizer.Tokenize("unaffablex b"));
    }

    [Fact]
    public void FromVocab_WithoutUnknownToken_Throws()
    {
        Assert.Throws<ArgumentException>(() => WordPieceTokenizer.FromVocab(["[PAD]", "[CLS]", "[SEP]", "a"]));
    }
}
