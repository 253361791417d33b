using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class TextNormalizerTests
{
    [Theory]
    [InlineData("  many   spaces\tand\u00a0nbsp  ", "many spaces and nbsp")]
    [InlineData("中文\n換行", "中文換行")]
    [InlineData("中文 空格", "中文 空格")]
    [InlineData("English\nwrap", "English wrap")]
    [InlineData("中文\nEnglish", "中文 English")]
    [InlineData("e\u0301\u0000\u001b[31m\u200b", "é[31m")]
    public void Inline_CollapsesWhitespaceKeepsCjkIntactAndStripsControls(string input, string expected)
    {
        Assert.Equal(expected, TextNormalizer.Inline(input));
    }

    [Fact]
    public void Inline_DropsLoneSurrogatesButKeepsPairs()
    {
        var input = "lone " + (char)0xD800 + " surrogate 𠀋";

        Assert.Equal("lone surrogate 𠀋", TextNormalizer.Inline(input));
    }

    [Fact]
    public void Lines_KeepsLineBreaksButDropsBlankLines()
    {
        Assert.Equal("one two\nthree", TextNormalizer.Lines("  one   two \r\n\r\n\n three  "));
    }

    [Fact]
    public void Verbatim_KeepsIndentationForCode()
    {
        Assert.Equal("  if (x)\n\n      y();", TextNormalizer.Verbatim("\n\n  if (x)\r\n\r\n      y();\u0007\n\n"));
    }

    [Fact]
    public void JoinWords_PutsNoSpaceBetweenCjkWords()
    {
        Assert.Equal("知識庫系統 works 很好", TextNormalizer.JoinWords(["知識", "庫系統", "works", "很好"]));
    }
}
