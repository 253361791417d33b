using System.Text;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class TextParsingTests
{
    private const string Traditional = "知識庫的第一段，說明這個系統如何運作。\n我們會把文件切成段落。\n\n第二段：檢索時會找到最相關的內容。";
    private const string Simplified = "知识库的第一段，说明这个系统如何运作。\n我们会把文件切成段落。\n\n第二段：检索时会找到最相关的内容。";

    [Fact]
    public void Text_Gb18030File_IsDecodedAsSimplifiedChinese()
    {
        var document = TestDocuments.Parse(CodePages.Get("GB18030").GetBytes(Simplified), "notes.txt");

        Assert.Equal("知识库的第一段，说明这个系统如何运作。\n我们会把文件切成段落。", document.Blocks[0].Text);
        Assert.Equal("第二段：检索时会找到最相关的内容。", document.Blocks[1].Text);
    }

    [Fact]
    public void Text_Big5File_IsDecodedAsTraditionalChinese()
    {
        var document = TestDocuments.Parse(CodePages.Get("big5").GetBytes(Traditional), "notes.txt");

        Assert.Equal(Traditional.Split("\n\n")[0], document.Blocks[0].Text);
        Assert.Equal(Traditional.Split("\n\n")[1], document.Blocks[1].Text);
    }

    [Theory]
    [InlineData("utf-8-bom")]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    [InlineData("utf-32le")]
    [InlineData("utf-8")]
    public void Text_UnicodeEncodings_AreDetected(string encoding)
    {
        byte[] bytes = encoding switch
        {
            "utf-8-bom" => [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(Traditional)],
            "utf-16le" => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(Traditional)],
            "utf-16be" => [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(Traditional)],
            "utf-32le" => [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(Traditional)],
            _ => Encoding.UTF8.GetBytes(Traditional),
        };

        var document = TestDocuments.Parse(bytes, "notes.txt");

        Assert.Equal(2, document.Blocks.Count);
        Assert.StartsWith("知識庫的第一段", document.Blocks[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_TitleIsTheFileNameWithoutDirectoriesOrExtension()
    {
        var document = TestDocuments.Parse(Encoding.UTF8.GetBytes("hello"), "../../etc/會議記錄 2025.txt");

        Assert.Equal("會議記錄 2025", document.Title);
        Assert.Equal("text", document.Format);
        Assert.Empty(document.Blocks[0].SectionPath);
        Assert.Null(document.Blocks[0].Page);
    }

    [Fact]
    public void Text_IsNormalized_NfcNoControlCharactersCollapsedSpaces()
    {
        var document = TestDocuments.Parse(Encoding.UTF8.GetBytes("Cafe\u0301 \u0007bell\u0000  and\t\ttabs\u200B \r\nnext   line"), "n.txt");

        Assert.Equal("Café bell and tabs\nnext line", document.Blocks[0].Text);
    }

    [Fact]
    public void Text_Windows1252File_FallsBackWhenItIsNotChinese()
    {
        var document = TestDocuments.Parse(CodePages.Get("windows-1252").GetBytes("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"), "menu.txt");

        Assert.Equal("Café crème brûlée", document.Blocks[0].Text);
    }
}
