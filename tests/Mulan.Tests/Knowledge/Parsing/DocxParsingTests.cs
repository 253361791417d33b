using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class DocxParsingTests
{
    private static readonly ParsedDocument Report = TestDocuments.Parse(OfficeFiles.Report(coreTitle: null), "年度報告.docx");

    [Fact]
    public void Docx_HeadingStyles_BuildTheSectionPath()
    {
        Assert.Equal(BlockKind.Heading, Report.Block("第一章 營收").Kind);
        Assert.Equal(["第一章 營收"], Report.Block("本年度營收").SectionPath);
        Assert.Equal(["第一章 營收", "1.1 简体中文小节"], Report.Block("这是简体中文").SectionPath);
        Assert.Equal(["第二章 成本"], Report.Block("Costs stayed flat").SectionPath);
    }

    [Fact]
    public void Docx_LocalizedStyleIdsAndOutlineLevels_StillCountAsHeadings()
    {
        // Style id "2" named "heading 2" (as Chinese Word writes it); "CompanySection" only has an outline level.
        Assert.Equal(BlockKind.Heading, Report.Block("1.1 简体中文小节").Kind);
        Assert.Equal(BlockKind.Heading, Report.Block("1.1.1 Regional detail").Kind);
        Assert.Equal(["第一章 營收", "1.1 简体中文小节", "1.1.1 Regional detail"], Report.Block("Numbers by region").SectionPath);
    }

    [Fact]
    public void Docx_NumberedParagraphs_AreListItems()
    {
        Assert.Equal(BlockKind.ListItem, Report.Block("第一項：雲端服務").Kind);
        Assert.Equal(BlockKind.ListItem, Report.Block("Second item: support").Kind);
        Assert.Equal(BlockKind.Paragraph, Report.Block("本年度營收").Kind);
    }

    [Fact]
    public void Docx_Table_IsRowsOfCellsWithTheHeaderRowFirst()
    {
        var table = Report.Block("地區");

        Assert.Equal(BlockKind.Table, table.Kind);
        Assert.Equal("地區 | 營收 | 成長\n台北 | 120 | 12%\n上海 | 98 | 8%", table.Text);
        Assert.Null(table.Page);
    }

    [Fact]
    public void Docx_Title_ComesFromCorePropertiesElseTheTitleStyle()
    {
        Assert.Equal("年度報告 Annual Report", Report.Title);
        Assert.Equal("FY2025 report", TestDocuments.Parse(OfficeFiles.Report("FY2025 report"), "x.docx").Title);
    }
}
