using System.Text;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class MarkdownParsingTests
{
    private const string Guide = """
        ---
        title: 部署指南
        tags: [ops, front-matter-junk]
        ---
        # 安裝

        這一段文字在原始檔
        換行了，但仍是同一段。

        ## 設定 *config*

        - 第一步：下載
        - Second step with `inline code`
          - nested bullet

        ```bash
        mulan serve --port 8080
          echo "indented"
        ```

        | 參數 | 說明 |
        |------|------|
        | port | 連接埠 |

        > Quoted advice.

        <div><script>alert(1)</script><p>Raw HTML text</p></div>

        # 附錄
        Last line.
        """;

    private static readonly ParsedDocument Document = TestDocuments.Parse(Encoding.UTF8.GetBytes(Guide), "deploy.md");

    [Fact]
    public void Markdown_Headings_BuildTheSectionPath()
    {
        Assert.Equal(["安裝"], Document.Block("這一段文字").SectionPath);
        Assert.Equal(["安裝", "設定 config"], Document.Block("第一步").SectionPath);
        Assert.Equal(["附錄"], Document.Block("Last line").SectionPath);
    }

    [Fact]
    public void Markdown_FrontMatter_IsNotContentButGivesTheTitle()
    {
        Assert.Equal("部署指南", Document.Title);
        Assert.DoesNotContain("front-matter-junk", Document.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_CodeListsTablesAndQuotes_KeepTheirShape()
    {
        var code = Document.Block("mulan serve");
        Assert.Equal(BlockKind.Code, code.Kind);
        Assert.Equal("mulan serve --port 8080\n  echo \"indented\"", code.Text);
        Assert.Equal(BlockKind.ListItem, Document.Block("第一步").Kind);
        Assert.Equal("Second step with inline code", Document.Block("Second step").Text);
        Assert.Equal(BlockKind.ListItem, Document.Block("nested bullet").Kind);
        Assert.Equal("參數 | 說明\nport | 連接埠", Document.Block("參數").Text);
        Assert.Equal(BlockKind.Table, Document.Block("參數").Kind);
        Assert.Equal(BlockKind.Paragraph, Document.Block("Quoted advice").Kind);
    }

    [Fact]
    public void Markdown_SoftLineBreakBetweenChineseCharacters_AddsNoSpace()
    {
        Assert.Equal("這一段文字在原始檔換行了，但仍是同一段。", Document.Block("這一段文字").Text);
    }

    [Fact]
    public void Markdown_RawHtmlBlocks_AreReadAsTextWithoutScripts()
    {
        Assert.Equal("Raw HTML text", Document.Block("Raw HTML").Text);
        Assert.DoesNotContain("alert", Document.AllText(), StringComparison.Ordinal);
    }
}
