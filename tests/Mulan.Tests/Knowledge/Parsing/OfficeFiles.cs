using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using P = DocumentFormat.OpenXml.Presentation;
using S = DocumentFormat.OpenXml.Spreadsheet;
using A = DocumentFormat.OpenXml.Drawing;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>DOCX, XLSX and PPTX files written with the Open XML SDK at test time.</summary>
internal static class OfficeFiles
{
    /// <summary>
    /// A report mixing Traditional and Simplified Chinese with English: a Title, "Heading1" by id, a heading
    /// whose id is localized ("2", as Chinese Word writes it) but whose name is "heading 2", a custom style
    /// that is a heading only through its outline level, a bulleted list and a table with a header row.
    /// </summary>
    public static byte[] Report(string? coreTitle)
    {
        var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            if (coreTitle is not null)
            {
                document.PackageProperties.Title = coreTitle;
            }

            var main = document.AddMainDocumentPart();
            var styles = main.AddNewPart<StyleDefinitionsPart>();
            styles.Styles = new Styles(
                ParagraphStyle("Title", "Title", basedOn: null, outline: null),
                ParagraphStyle("Heading1", "heading 1", basedOn: null, outline: 0),
                ParagraphStyle("2", "heading 2", basedOn: null, outline: null),
                ParagraphStyle("CompanySection", "公司小節", basedOn: null, outline: 2),
                ParagraphStyle("Quote", "Quote", basedOn: null, outline: null));
            main.Document = new Document(new Body(
                Styled("Title", "年度報告 Annual Report"),
                Styled("Heading1", "第一章 營收"),
                Plain("本年度營收成長百分之十二，主要來自訂閱方案。"),
                Styled("2", "1.1 简体中文小节"),
                Plain("这是简体中文的段落，用于检查文本提取。"),
                ListItem("第一項：雲端服務"),
                ListItem("Second item: support"),
                Styled("CompanySection", "1.1.1 Regional detail"),
                Plain("Numbers by region follow."),
                Table(["地區", "營收", "成長"], ["台北", "120", "12%"], ["上海", "98", "8%"]),
                Styled("Heading1", "第二章 成本"),
                Styled("Quote", "Costs stayed flat."),
                new SectionProperties()));
        }

        return stream.ToArray();
    }

    /// <summary>Two sheets: strings (shared and inline), numbers, a date, a percentage, a boolean; a second sheet with 120 rows.</summary>
    public static byte[] Workbook()
    {
        var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new S.Workbook();
            var strings = workbook.AddNewPart<SharedStringTablePart>();
            strings.SharedStringTable = new S.SharedStringTable(
                new S.SharedStringItem(new S.Text("產品")),
                new S.SharedStringItem(new S.Text("价格")),
                new S.SharedStringItem(new S.Text("上市日期")),
                new S.SharedStringItem(new S.Run(new S.Text("折")), new S.Run(new S.Text("扣"))));
            var styles = workbook.AddNewPart<WorkbookStylesPart>();
            styles.Stylesheet = new S.Stylesheet(
                new S.Fonts(new S.Font()),
                new S.Fills(new S.Fill()),
                new S.Borders(new S.Border()),
                new S.CellFormats(
                    new S.CellFormat { NumberFormatId = 0 },
                    new S.CellFormat { NumberFormatId = 14, ApplyNumberFormat = true },
                    new S.CellFormat { NumberFormatId = 10, ApplyNumberFormat = true }));

            var sheets = workbook.Workbook.AppendChild(new S.Sheets());
            AddSheet(workbook, sheets, 1, "產品清單",
            [
                new S.Row(SharedCell("A1", 0), SharedCell("B1", 1), SharedCell("C1", 2), SharedCell("D1", 3), InlineCell("E1", "Available")),
                new S.Row(InlineCell("A2", "雲端硬碟"), NumberCell("B2", "1299.5", 0), NumberCell("C2", "45292", 1), NumberCell("D2", "0.125", 2), BoolCell("E2", true)),
                new S.Row(InlineCell("A3", "Support plan"), NumberCell("B3", "0.30000000000000004", 0), NumberCell("C3", "45306", 1), NumberCell("D3", "0.05", 2), BoolCell("E3", false)),
            ]);
            AddSheet(workbook, sheets, 2, "Log", [.. Enumerable.Range(0, 120).Select(i => new S.Row(InlineCell($"A{i + 1}", i == 0 ? "Row" : $"entry {i}"), InlineCell($"C{i + 1}", i == 0 ? "Note" : "ok")))]);
        }

        return stream.ToArray();
    }

    /// <summary>Three slides: title + bullets, a table with speaker notes, and one without a title placeholder.</summary>
    public static byte[] Deck()
    {
        var stream = new MemoryStream();
        using (var document = PresentationDocument.Create(stream, PresentationDocumentType.Presentation))
        {
            var presentation = document.AddPresentationPart();
            var slideIds = new P.SlideIdList();
            presentation.Presentation = new P.Presentation(slideIds);
            AddSlide(presentation, slideIds, 1, "產品路線圖", [TextShape(3, "Q1: 搜尋功能上線\nQ2: 權限管理")], notes: null);
            AddSlide(presentation, slideIds, 2, "价格对比", [TableFrame(4, ["方案", "价格"], ["基础版", "99"], ["专业版", "299"])], notes: "Mention the discount for schools.");
            AddSlide(presentation, slideIds, 3, null, [TextShape(5, "Thank you 謝謝")], notes: null);
        }

        return stream.ToArray();
    }

    private static Style ParagraphStyle(string id, string name, string? basedOn, int? outline)
    {
        var style = new Style(new StyleName { Val = name }) { Type = StyleValues.Paragraph, StyleId = id };
        if (basedOn is not null)
        {
            style.Append(new BasedOn { Val = basedOn });
        }

        if (outline is not null)
        {
            style.Append(new StyleParagraphProperties(new OutlineLevel { Val = outline }));
        }

        return style;
    }

    private static Paragraph Styled(string styleId, string text) =>
        new(new ParagraphProperties(new ParagraphStyleId { Val = styleId }), new Run(new Text(text)));

    private static Paragraph Plain(string text) => new(new Run(new Text(text)));

    private static Paragraph ListItem(string text) =>
        new(new ParagraphProperties(new NumberingProperties(new NumberingLevelReference { Val = 0 }, new NumberingId { Val = 1 })), new Run(new Text(text)));

    private static Table Table(params string[][] rows) =>
        new(rows.Select(cells => new TableRow(cells.Select(c => new TableCell(new Paragraph(new Run(new Text(c))))))));

    private static void AddSheet(WorkbookPart workbook, S.Sheets sheets, uint id, string name, S.Row[] rows)
    {
        var part = workbook.AddNewPart<WorksheetPart>();
        part.Worksheet = new S.Worksheet(new S.SheetData(rows));
        sheets.Append(new S.Sheet { Id = workbook.GetIdOfPart(part), SheetId = id, Name = name });
    }

    private static S.Cell SharedCell(string reference, int index) =>
        new() { CellReference = reference, DataType = S.CellValues.SharedString, CellValue = new S.CellValue(index.ToString()) };

    private static S.Cell InlineCell(string reference, string text) =>
        new(new S.InlineString(new S.Text(text))) { CellReference = reference, DataType = S.CellValues.InlineString };

    private static S.Cell NumberCell(string reference, string value, uint style) =>
        new() { CellReference = reference, CellValue = new S.CellValue(value), StyleIndex = style };

    private static S.Cell BoolCell(string reference, bool value) =>
        new() { CellReference = reference, DataType = S.CellValues.Boolean, CellValue = new S.CellValue(value ? "1" : "0") };

    private static void AddSlide(PresentationPart presentation, P.SlideIdList ids, uint number, string? title, OpenXmlElement[] shapes, string? notes)
    {
        var slide = presentation.AddNewPart<SlidePart>();
        var tree = new P.ShapeTree(
            new P.NonVisualGroupShapeProperties(new P.NonVisualDrawingProperties { Id = 1, Name = "" }, new P.NonVisualGroupShapeDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
            new P.GroupShapeProperties());

        // The title placeholder comes last in the tree on purpose: it must still head the slide.
        tree.Append(shapes);
        if (title is not null)
        {
            tree.Append(PlaceholderShape(2, P.PlaceholderValues.Title, title));
        }

        slide.Slide = new P.Slide(new P.CommonSlideData(tree));
        if (notes is not null)
        {
            var notesPart = slide.AddNewPart<NotesSlidePart>();
            notesPart.NotesSlide = new P.NotesSlide(new P.CommonSlideData(new P.ShapeTree(
                new P.NonVisualGroupShapeProperties(new P.NonVisualDrawingProperties { Id = 1, Name = "" }, new P.NonVisualGroupShapeDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
                new P.GroupShapeProperties(),
                PlaceholderShape(2, P.PlaceholderValues.SlideNumber, number.ToString()),
                PlaceholderShape(3, P.PlaceholderValues.Body, notes))));
        }

        ids.Append(new P.SlideId { Id = 255 + number, RelationshipId = presentation.GetIdOfPart(slide) });
    }

    private static P.Shape PlaceholderShape(uint id, P.PlaceholderValues type, string text) =>
        new(
            new P.NonVisualShapeProperties(
                new P.NonVisualDrawingProperties { Id = id, Name = $"Placeholder {id}" },
                new P.NonVisualShapeDrawingProperties(),
                new P.ApplicationNonVisualDrawingProperties(new P.PlaceholderShape { Type = type })),
            new P.ShapeProperties(),
            TextBody(text));

    private static P.Shape TextShape(uint id, string text) =>
        new(
            new P.NonVisualShapeProperties(new P.NonVisualDrawingProperties { Id = id, Name = $"Text {id}" }, new P.NonVisualShapeDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
            new P.ShapeProperties(),
            TextBody(text));

    private static P.TextBody TextBody(string text) =>
        new([new A.BodyProperties(), new A.ListStyle(), .. text.Split('\n').Select(line => new A.Paragraph(new A.Run(new A.Text(line))))]);

    private static P.GraphicFrame TableFrame(uint id, params string[][] rows) =>
        new(
            new P.NonVisualGraphicFrameProperties(new P.NonVisualDrawingProperties { Id = id, Name = "Table" }, new P.NonVisualGraphicFrameDrawingProperties(), new P.ApplicationNonVisualDrawingProperties()),
            new P.Transform(),
            new A.Graphic(new A.GraphicData(
                new A.Table(rows.Select(cells => new A.TableRow(cells.Select(c => new A.TableCell(new A.TextBody(new A.BodyProperties(), new A.Paragraph(new A.Run(new A.Text(c))))))) { Height = 370840 })))
            { Uri = "http://schemas.openxmlformats.org/drawingml/2006/table" }));
}
