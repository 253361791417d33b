using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class XlsxParsingTests
{
    private static readonly ParsedDocument Workbook = TestDocuments.Parse(OfficeFiles.Workbook(), "產品.xlsx");

    [Fact]
    public void Xlsx_EachSheet_IsASectionNamedAfterIt()
    {
        var heading = Workbook.Block("產品清單");

        Assert.Equal(BlockKind.Heading, heading.Kind);
        Assert.Equal(["產品清單"], Workbook.Block("雲端硬碟").SectionPath);
        Assert.Equal(["Log"], Workbook.Block("entry 1").SectionPath);
        Assert.Equal("產品", Workbook.Title);
    }

    [Fact]
    public void Xlsx_Rows_AreTableTextWithSharedAndInlineStringsAndDisplayedValues()
    {
        var table = Workbook.Block("雲端硬碟");

        Assert.Equal(BlockKind.Table, table.Kind);
        Assert.Equal(
            "產品 | 价格 | 上市日期 | 折扣 | Available\n雲端硬碟 | 1299.5 | 2024-01-01 | 12.5% | TRUE\nSupport plan | 0.3 | 2024-01-15 | 5% | FALSE",
            table.Text);
    }

    [Fact]
    public void Xlsx_LongSheet_IsSplitIntoBlocksThatEachRepeatTheHeaderRow()
    {
        var blocks = Workbook.Blocks.Where(b => b.Kind == BlockKind.Table && b.SectionPath[0] == "Log").ToList();

        Assert.Equal(3, blocks.Count);
        Assert.All(blocks, b => Assert.StartsWith("Row | | Note\n", b.Text, StringComparison.Ordinal));
        Assert.Contains("entry 119 | | ok", blocks[^1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Xlsx_TooManyCells_FailsWithTheCap()
    {
        var failure = TestDocuments.Fails(OfficeFiles.Workbook(), "big.xlsx", new ParseLimits { MaxCells = 50 });

        Assert.Equal("spreadsheet has more than 50 cells", failure.Reason);
    }
}
