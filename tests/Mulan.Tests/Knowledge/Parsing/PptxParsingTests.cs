using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Tests.Knowledge.Parsing;

public sealed class PptxParsingTests
{
    private static readonly ParsedDocument Deck = TestDocuments.Parse(OfficeFiles.Deck(), "roadmap.pptx");

    [Fact]
    public void Pptx_EachSlide_IsAPageHeadedByItsTitlePlaceholder()
    {
        var title = Deck.Blocks[0];

        Assert.Equal(BlockKind.Heading, title.Kind);
        Assert.Equal("產品路線圖", title.Text);
        Assert.Equal(1, title.Page);
        Assert.Equal(["產品路線圖"], Deck.Block("搜尋功能").SectionPath);
        Assert.Equal(1, Deck.Block("搜尋功能").Page);
        Assert.Equal("Q1: 搜尋功能上線\nQ2: 權限管理", Deck.Block("搜尋功能").Text);
        Assert.Equal("產品路線圖", Deck.Title);
    }

    [Fact]
    public void Pptx_Tables_AreRowsOfCells()
    {
        var table = Deck.Block("方案");

        Assert.Equal(BlockKind.Table, table.Kind);
        Assert.Equal("方案 | 价格\n基础版 | 99\n专业版 | 299", table.Text);
        Assert.Equal(2, table.Page);
        Assert.Equal(["价格对比"], table.SectionPath);
    }

    [Fact]
    public void Pptx_SpeakerNotes_FollowTheSlideWithoutTheSlideNumber()
    {
        var notes = Deck.Block("discount");

        Assert.Equal("Speaker notes: Mention the discount for schools.", notes.Text);
        Assert.Equal(2, notes.Page);
        Assert.DoesNotContain(Deck.Blocks, b => b.Text == "2");
    }

    [Fact]
    public void Pptx_SlideWithoutTitle_DoesNotInheritThePreviousSlidesSection()
    {
        var text = Deck.Block("Thank you");

        Assert.Equal(3, text.Page);
        Assert.Equal(["Slide 3"], text.SectionPath);
    }
}
