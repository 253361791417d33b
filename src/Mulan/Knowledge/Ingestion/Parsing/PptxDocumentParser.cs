using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Presentation;
using A = DocumentFormat.OpenXml.Drawing;

namespace Mulan.Knowledge.Ingestion.Parsing;

/// <summary>
/// PPTX through the Open XML SDK: each slide is a page (Page = slide number) and a section headed by its
/// title placeholder ("Slide N" when it has none); other text boxes become paragraphs and tables
/// "cell | cell" rows, in shape order, followed by the speaker notes.
/// </summary>
public sealed class PptxDocumentParser : IDocumentParser
{
    private const string Label = "PPTX";

    public string Format => "pptx";

    public bool Accepts(string extension, string? mediaType, ReadOnlySpan<byte> head) =>
        FileNames.HasExtension(extension, ".pptx", ".pptm", ".ppsx", ".ppsm", ".potx")
        || FileNames.HasMediaType(
            mediaType,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
            "application/vnd.ms-powerpoint.presentation.macroenabled.12");

    public ParsedDocument Parse(Stream input, string fileName, ParseLimits limits, CancellationToken ct)
    {
        var data = OfficePackage.Read(input, Label, limits, ct);
        return ParseFailure.Guard(OfficePackage.Corrupt(Label), () =>
        {
            using var document = PresentationDocument.Open(InputBuffer.AsStream(data), false, OfficePackage.Settings(limits));
            var presentation = document.PresentationPart ?? throw new DocumentParseException(OfficePackage.Corrupt(Label));
            var slideIds = presentation.Presentation?.SlideIdList?.Elements<SlideId>().ToList() ?? [];
            if (slideIds.Count > limits.MaxPages)
            {
                throw new DocumentParseException($"presentation has more than {ByteSize.Number(limits.MaxPages)} slides");
            }

            var collector = new BlockCollector(limits, ct);
            string? firstTitle = null;
            for (var i = 0; i < slideIds.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (slideIds[i].RelationshipId?.Value is not { } id || !presentation.TryGetPartById(id, out var part) || part is not SlidePart slide)
                {
                    continue;
                }

                var number = i + 1;
                var content = SlideContent.Read(slide.Slide?.CommonSlideData?.ShapeTree);
                collector.ResetSections();
                if (content.Title is { } title)
                {
                    collector.Heading(1, title, number);
                    firstTitle ??= TextNormalizer.Inline(title);
                }
                else
                {
                    collector.EnterSection(1, $"Slide {number}");
                }

                foreach (var (kind, text) in content.Blocks)
                {
                    collector.Add(kind, text, number);
                }

                var notes = SlideContent.Read(slide.NotesSlidePart?.NotesSlide?.CommonSlideData?.ShapeTree, notesOnly: true);
                foreach (var (_, text) in notes.Blocks)
                {
                    collector.Add(BlockKind.Paragraph, "Speaker notes: " + text, number);
                }
            }

            var documentTitle = OfficePackage.Title(document) ?? (string.IsNullOrEmpty(firstTitle) ? null : firstTitle) ?? FileNames.Title(fileName);
            return new ParsedDocument(documentTitle, Format, collector.Blocks);
        });
    }

    /// <summary>The title and the other text of one slide (or notes page), in shape-tree order.</summary>
    private sealed class SlideContent
    {
        public string? Title { get; private set; }

        public List<(BlockKind Kind, string Text)> Blocks { get; } = [];

        /// <param name="notesOnly">For notes pages: keep only the body placeholder, not the slide image or number.</param>
        public static SlideContent Read(ShapeTree? tree, bool notesOnly = false)
        {
            var content = new SlideContent();
            if (tree is null)
            {
                return content;
            }

            var pending = new Stack<OpenXmlElement>();
            PushChildren(pending, tree);
            while (pending.TryPop(out var element))
            {
                switch (element)
                {
                    case Shape shape:
                        content.AddShape(shape, notesOnly);
                        break;
                    case GraphicFrame frame when !notesOnly:
                        foreach (var table in frame.Descendants<A.Table>())
                        {
                            content.Blocks.Add((BlockKind.Table, TableText(table)));
                        }

                        break;
                    case GroupShape or AlternateContent or AlternateContentChoice:
                        PushChildren(pending, element);
                        break;
                }
            }

            return content;
        }

        private void AddShape(Shape shape, bool notesOnly)
        {
            var placeholder = shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape?.Type?.Value;
            var text = BodyText(shape.TextBody);
            if (notesOnly)
            {
                if (placeholder == PlaceholderValues.Body || (placeholder is null && shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape is not null))
                {
                    Blocks.Add((BlockKind.Paragraph, text));
                }
            }
            else if ((placeholder == PlaceholderValues.Title || placeholder == PlaceholderValues.CenteredTitle) && Title is null)
            {
                Title = text;
            }
            else if (placeholder != PlaceholderValues.SlideNumber && placeholder != PlaceholderValues.DateAndTime && placeholder != PlaceholderValues.Footer)
            {
                Blocks.Add((BlockKind.Paragraph, text));
            }
        }

        private static string BodyText(OpenXmlElement? body) =>
            body is null ? "" : string.Join('\n', body.Elements<A.Paragraph>().Select(ParagraphText));

        private static string ParagraphText(OpenXmlElement paragraph)
        {
            var sb = new StringBuilder();
            foreach (var element in paragraph.Descendants())
            {
                if (element is A.Text text)
                {
                    sb.Append(text.Text);
                }
                else if (element is A.Break)
                {
                    sb.Append('\n');
                }
            }

            return sb.ToString();
        }

        private static string TableText(A.Table table)
        {
            var rows = table.Elements<A.TableRow>()
                .Select(row => row.Elements<A.TableCell>().Select(cell => TextNormalizer.Inline(BodyText(cell.TextBody))).ToList())
                .Where(cells => cells.Any(c => c.Length > 0))
                .Select(cells => string.Join(" | ", cells));
            return string.Join('\n', rows);
        }

        private static void PushChildren(Stack<OpenXmlElement> pending, OpenXmlElement element)
        {
            for (var child = element.LastChild; child is not null; child = child.PreviousSibling())
            {
                pending.Push(child);
            }
        }
    }
}
