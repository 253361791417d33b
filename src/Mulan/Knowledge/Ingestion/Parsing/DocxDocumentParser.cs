using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// DOCX through the Open XML SDK: body paragraphs in order, heading styles (Title, Heading 1–9, localized
/// ids through names and outline levels) build the section path, numbered/bulleted paragraphs become list
/// items, tables become "cell | cell" rows. Headers, footers, comments and tracked deletions are left out.
/// </summary>
public sealed class DocxDocumentParser : IDocumentParser
{
    private const string Label = "DOCX";

    public string Format => "docx";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".docx", ".docm", ".dotx", ".dotm")
        || FileNames.HasMediaType(
            mediaType,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
            "application/vnd.ms-word.document.macroenabled.12");

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var data = OfficePackage.Read(input, Label, limits, ct);
        return ParseFailure.Guard(OfficePackage.Corrupt(Label), () =>
        {
            using var document = WordprocessingDocument.Open(InputBuffer.AsStream(data), false, OfficePackage.Settings(limits));
            var main = document.MainDocumentPart;
            var body = main?.Document?.Body ?? throw new DocumentParseException(OfficePackage.Corrupt(Label));
            var styles = new DocxStyles(main.StyleDefinitionsPart?.Styles);
            var collector = new BlockCollector(limits, ct);
            string? titleParagraph = null;
            foreach (var element in BlockElements(body))
            {
                if (element is Table table)
                {
                    collector.Add(BlockKind.Table, TableText(table), null);
                    continue;
                }

                var paragraph = (Paragraph)element;
                var text = Text(paragraph);
                if (styles.HeadingLevel(paragraph) is { } level)
                {
                    if (level == DocxStyles.TitleLevel)
                    {
                        titleParagraph ??= TextNormalizer.Inline(text) is { Length: > 0 } title ? title : null;
                    }

                    collector.Heading(Math.Max(level, 1), text, null);
                }
                else
                {
                    collector.Add(styles.IsListItem(paragraph) ? BlockKind.ListItem : BlockKind.Paragraph, text, null);
                }
            }

            var documentTitle = OfficePackage.Title(document) ?? titleParagraph ?? collector.FirstHeading ?? FileNames.Title(fileName);
            return new ParsedDocument(documentTitle, Format, collector.Blocks);
        });
    }

    /// <summary>Body-level paragraphs and tables in order, looking through content controls and custom XML wrappers.</summary>
    private static IEnumerable<OpenXmlElement> BlockElements(Body body)
    {
        var pending = new Stack<OpenXmlElement>();
        PushChildren(pending, body);
        while (pending.TryPop(out var element))
        {
            if (element is Paragraph or Table)
            {
                yield return element;
            }
            else if (element is not AlternateContentFallback)
            {
                PushChildren(pending, element);
            }
        }
    }

    private static string TableText(Table table)
    {
        var rows = new List<string>();
        foreach (var row in table.Descendants<TableRow>().Where(r => r.Ancestors<Table>().First() == table))
        {
            var cells = row.Descendants<TableCell>()
                .Where(c => c.Ancestors<TableRow>().First() == row)
                .Select(c => TextNormalizer.Inline(Text(c)))
                .ToList();
            if (cells.Any(c => c.Length > 0))
            {
                rows.Add(string.Join(" | ", cells));
            }
        }

        return string.Join('\n', rows);
    }

    /// <summary>
    /// The visible text under an element, walked without recursion (nesting depth is the author's to choose).
    /// Only the first choice of alternate content is read, so text boxes are not doubled.
    /// </summary>
    private static string Text(OpenXmlElement root)
    {
        var sb = new StringBuilder();
        var pending = new Stack<OpenXmlElement>();
        PushChildren(pending, root);
        while (pending.TryPop(out var element))
        {
            switch (element)
            {
                case Text text:
                    sb.Append(text.Text);
                    break;
                case TabChar or PositionalTab:
                    sb.Append('\t');
                    break;
                case Break or CarriageReturn:
                    sb.Append('\n');
                    break;
                case NoBreakHyphen:
                    sb.Append('-');
                    break;
                case AlternateContentFallback:
                    break;
                case Paragraph or TableCell:
                    sb.Append('\n');
                    PushChildren(pending, element);
                    break;
                default:
                    PushChildren(pending, element);
                    break;
            }
        }

        return sb.ToString();
    }

    private static void PushChildren(Stack<OpenXmlElement> pending, OpenXmlElement element)
    {
        for (var child = element.LastChild; child is not null; child = child.PreviousSibling())
        {
            pending.Push(child);
        }
    }
}
