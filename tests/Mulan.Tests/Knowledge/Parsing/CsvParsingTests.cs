using System.Text;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class CsvParsingTests
{
    [Fact]
    public void Csv_EachRow_IsOneBlockOfHeaderValuePairsInTheFileSection()
    {
        const string Csv = "產品,價格,備註\r\n雲端硬碟,1299,\"含稅, 年繳\"\r\nSupport,\"99\",\"多行\n說明 with \"\"quotes\"\"\"\r\n";

        var document = TestDocuments.Parse(Encoding.UTF8.GetBytes(Csv), "prices.csv");

        Assert.Equal("csv", document.Format);
        Assert.Equal("prices", document.Title);
        Assert.Equal(2, document.Blocks.Count);
        Assert.Equal("產品: 雲端硬碟; 價格: 1299; 備註: 含稅, 年繳", document.Blocks[0].Text);
        Assert.Equal("產品: Support; 價格: 99; 備註: 多行說明 with \"quotes\"", document.Blocks[1].Text);
        Assert.All(document.Blocks, b => Assert.Equal(["prices.csv"], b.SectionPath));
        Assert.All(document.Blocks, b => Assert.Equal(BlockKind.Table, b.Kind));
    }

    [Fact]
    public void Csv_EmptyValuesAreLeftOutAndExtraFieldsGetColumnNames()
    {
        var document = TestDocuments.Parse(Encoding.UTF8.GetBytes("a,b\n1,,extra\n"), "x.csv");

        Assert.Equal("a: 1; column 3: extra", document.Blocks.Single().Text);
    }

    [Fact]
    public void Tsv_IsSplitOnTabs()
    {
        var document = TestDocuments.Parse(Encoding.UTF8.GetBytes("名稱\t數量\n蘋果, 紅色\t3\n"), "fruit.tsv");

        Assert.Equal("名稱: 蘋果, 紅色; 數量: 3", document.Blocks.Single().Text);
    }

    [Fact]
    public void Csv_SemicolonDelimitedBig5File_IsDetected()
    {
        var document = TestDocuments.Parse(CodePages.Get("big5").GetBytes("城市;人口\n臺北市;2500000\n新北市;4000000\n"), "cities.csv");

        Assert.Equal("城市: 臺北市; 人口: 2500000", document.Blocks[0].Text);
    }
}
