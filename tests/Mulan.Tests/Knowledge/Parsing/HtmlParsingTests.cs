using System.Text;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class HtmlParsingTests
{
    private const string Page = """
        <!DOCTYPE html>
        <html><head>
          <title>產品手冊 &amp; FAQ</title>
          <style>body { color: red } .secret-css {}</style>
          <script>alert("script-junk")</script>
        </head><body>
          <header><a href="/">site-header-junk</a></header>
          <nav><ul><li>nav-junk</li></ul></nav>
          <main>
            <article>
              <header><h1>使用說明</h1></header>
              <p>第一段：安裝步驟很
              簡單。Install&nbsp;it &lt;now&gt;.</p>
              <div hidden>hidden-junk</div>
              <p style="display: none">display-none-junk</p>
              <span aria-hidden="true">aria-junk</span>
              <noscript>noscript-junk</noscript>
              <template><p>template-junk</p></template>
              <svg><text>svg-junk</text></svg>
              <h2>常見問題</h2>
              <ul><li>如何登入？<ul><li>Nested answer</li></ul></li><li>Second item</li></ul>
              <table>
                <thead><tr><th>方案</th><th>價格</th></tr></thead>
                <tbody><tr><td>基本</td><td>99</td></tr><tr><td>專業</td><td>299<br>含稅</td></tr></tbody>
              </table>
              <pre>  code line 1
          indented line 2</pre>
              <form><label>form-junk</label><input value="input-junk"></form>
              <p>Line one<br>Line two</p>
            </article>
          </main>
          <aside>aside-junk</aside>
          <footer>footer-junk</footer>
          <script>document.write("late-script-junk")</script>
        </body></html>
        """;

    private static readonly ParsedDocument Document = TestDocuments.Parse(Encoding.UTF8.GetBytes(Page), "manual.html");

    [Fact]
    public void Html_ScriptsChromeFormsAndHiddenElements_NeverReachTheText()
    {
        var text = Document.AllText();

        Assert.DoesNotContain("junk", text, StringComparison.Ordinal);
        Assert.DoesNotContain("alert", text, StringComparison.Ordinal);
        Assert.DoesNotContain("color: red", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_Headings_BuildTheSectionPathAndTitleComesFromTheTitleElement()
    {
        Assert.Equal("產品手冊 & FAQ", Document.Title);
        Assert.Equal(BlockKind.Heading, Document.Block("使用說明").Kind);
        Assert.Equal(["使用說明"], Document.Block("第一段").SectionPath);
        Assert.Equal(["使用說明", "常見問題"], Document.Block("如何登入").SectionPath);
    }

    [Fact]
    public void Html_Text_IsDecodedAndSoftWrapsInsideChineseAreNotSpaces()
    {
        Assert.Equal("第一段：安裝步驟很簡單。Install it <now>.", Document.Block("第一段").Text);
        Assert.Equal("Line one\nLine two", Document.Block("Line one").Text);
    }

    [Fact]
    public void Html_ListsTablesAndPre_KeepTheirKinds()
    {
        Assert.Equal(BlockKind.ListItem, Document.Block("如何登入").Kind);
        Assert.Equal("如何登入？", Document.Block("如何登入").Text);
        Assert.Equal(BlockKind.ListItem, Document.Block("Nested answer").Kind);
        Assert.Equal(BlockKind.ListItem, Document.Block("Second item").Kind);
        var table = Document.Block("方案");
        Assert.Equal(BlockKind.Table, table.Kind);
        Assert.Equal("方案 | 價格\n基本 | 99\n專業 | 299 含稅", table.Text);
        var code = Document.Block("code line 1");
        Assert.Equal(BlockKind.Code, code.Kind);
        Assert.Equal("  code line 1\n  indented line 2", code.Text);
    }

    [Fact]
    public void Html_WithoutTitleElement_TakesTheFirstH1()
    {
        var document = TestDocuments.Parse(Encoding.UTF8.GetBytes("<p>intro</p><h2>Sub</h2><h1>Main title</h1>"), "page.htm");

        Assert.Equal("Main title", document.Title);
    }

    [Fact]
    public void Html_DeclaredLegacyCharset_IsHonoured()
    {
        var gb = CodePages.Get("GB18030");
        var bytes = gb.GetBytes("<html><head><meta charset=\"gb2312\"><title>简体标题</title></head><body><p>简体中文内容</p></body></html>");

        var document = TestDocuments.Parse(bytes, "gb.html");

        Assert.Equal("简体标题", document.Title);
        Assert.Equal("简体中文内容", document.Block("简体").Text);
    }
}
