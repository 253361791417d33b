using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Knowledge.Ingestion.Parsing;
using Mulan.Speech.Audio;
using Mulan.Speech.Ocr;

namespace Mulan.Knowledge.Ingestion;

/// <summary>
/// Documents that a knowledge base reads through its speech and OCR routes, over this server's own gateway (so the
/// work is routed, metered and limited like any call, on the workspace's knowledge key): audio through its
/// <c>transcriptionModel</c> (each timed segment a paragraph), images and PDFs without a text layer through its
/// <c>ocrModel</c> (each page's Markdown paragraphs). Anything else, or a base without those routes, is left to the parsers.
/// </summary>
public sealed class MediaIngestion(SelfGateway gateway, ServiceKeys keys)
{
    /// <summary>The parsed document, or null when the file is not for a media route of this knowledge base.</summary>
    /// <exception cref="DocumentParseException">audio without a transcription route, or the route failed.</exception>
    public async Task<ParsedDocument?> TryParseAsync(KnowledgeBase kb, KnowledgeDocument document, byte[] data, CancellationToken ct)
    {
        if (AudioSniffer.Detect(data) is not null)
        {
            if (kb.TranscriptionModel is not { } transcription)
            {
                throw new DocumentParseException("audio needs a transcription route: set the knowledge base's transcriptionModel");
            }
            var answer = await CallAsync("v1/audio/transcriptions", transcription, kb, document, data, [("response_format", "verbose_json")], ct);
            var blocks = (answer["segments"] as JsonArray ?? []).Select(s => s?["text"]?.GetValue<string>()?.Trim()).Where(t => !string.IsNullOrEmpty(t))
                .Select(t => new DocumentBlock(BlockKind.Paragraph, t!, [], null)).ToList();
            if (blocks.Count == 0 && answer["text"]?.GetValue<string>() is { Length: > 0 } whole)
            {
                blocks.Add(new DocumentBlock(BlockKind.Paragraph, whole, [], null));
            }
            return new ParsedDocument(document.Title, "audio", blocks);
        }
        if (kb.OcrModel is not { } ocr || !(ImageInfo.Read(data) is not null || (FormatSniffer.IsPdf(data) && !HasTextLayer(data))))
        {
            return null;
        }
        var pages = (await CallAsync("v1/ocr", ocr, kb, document, data, [], ct))["pages"] as JsonArray ?? [];
        var result = new List<DocumentBlock>();
        for (var i = 0; i < pages.Count; i++)
        {
            var markdown = pages[i]?["markdown"]?.GetValue<string>() ?? "";
            foreach (var paragraph in markdown.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                result.Add(new DocumentBlock(BlockKind.Paragraph, Markdig.Markdown.ToPlainText(paragraph).Trim(), [], pages.Count > 1 || FormatSniffer.IsPdf(data) ? i + 1 : null));
            }
        }
        return new ParsedDocument(document.Title, FormatSniffer.IsPdf(data) ? "pdf" : "image", [.. result.Where(b => b.Text.Length > 0)]);
    }

    private async Task<JsonNode> CallAsync(string path, string model, KnowledgeBase kb, KnowledgeDocument document, byte[] data,
        (string, string)[] fields, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(data);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", Path.GetFileName(document.Source));
        form.Add(new StringContent(model), "model");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }
        try
        {
            return await gateway.PostFormAsync(path, form, keys.BearerFor(kb.WorkspaceId), ct);
        }
        catch (GatewayCallException e)
        {
            throw new DocumentParseException($"the {(path.EndsWith("ocr", StringComparison.Ordinal) ? "OCR" : "transcription")} route '{model}' failed ({e.Status}): {e.Message}");
        }
    }

    private static bool HasTextLayer(byte[] pdf)
    {
        try
        {
            using var document = UglyToad.PdfPig.PdfDocument.Open(pdf);
            return document.GetPages().Any(PdfLayout.HasText);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return true; // the PDF parser reports what is wrong with it
        }
    }
}
