using System.Net;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Mulan.Bench.Ingestion;

/// <summary>
/// Writes a corpus document as an HTML page or a Word document (PDFs: <see cref="PdfWriter"/>) with the same structure as its Markdown: a
/// title, then each paragraph under a heading. Only the parse of these files is measured, never their writing.
/// </summary>
internal static class FormatFiles
{
    public static byte[] Html(CorpusDocument document)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").Append(WebUtility.HtmlEncode(document.Title)).Append("</title></head>\n<body>\n");
        html.Append("<h1>").Append(WebUtility.HtmlEncode(document.Title)).Append("</h1>\n");
        foreach (var (heading, text) in document.Sections)
        {
            html.Append("<h2>").Append(WebUtility.HtmlEncode(heading)).Append("</h2>\n<p>").Append(WebUtility.HtmlEncode(text)).Append("</p>\n");
        }

        html.Append("</body></html>\n");
        return Encoding.UTF8.GetBytes(html.ToString());
    }

    /// <summary>Word's built-in Title and Heading 1 styles, as a document typed in Word carries them.</summary>
    public static byte[] Docx(CorpusDocument document)
    {
        var stream = new MemoryStream();
        using (var word = WordprocessingDocument.Create(stream, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = word.AddMainDocumentPart();
            var styles = main.AddNewPart<StyleDefinitionsPart>();
            styles.Styles = new Styles(ParagraphStyle("Title", "Title"), ParagraphStyle("Heading1", "heading 1"));
            var body = new Body(Styled("Title", document.Title));
            foreach (var (heading, text) in document.Sections)
            {
                body.Append(Styled("Heading1", heading), new Paragraph(new Run(new Text(text))));
            }

            body.Append(new SectionProperties());
            main.Document = new Document(body);
        }

        return stream.ToArray();
    }

    private static Style ParagraphStyle(string id, string name) =>
        new(new StyleName { Val = name }) { Type = StyleValues.Paragraph, StyleId = id };

    private static Paragraph Styled(string styleId, string text) =>
        new(new ParagraphProperties(new ParagraphStyleId { Val = styleId }), new Run(new Text(text)));
}
