using System.Text;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Knowledge.Lifecycle;
using Mulan.Outbound;

namespace Mulan.Knowledge.Ingestion;

/// <summary>
/// Accepts documents into a knowledge base: stores the bytes, queues the document, wakes a worker. A document whose
/// origin (file name, or URL) the knowledge base already has is queued as its next version, replacing it when ready;
/// the same bytes again are recognised by their SHA-256 and not queued at all.
/// </summary>
public sealed class IngestionService(
    KnowledgeLifecycle lifecycle, DocumentFiles files, IngestionSignal signal, GuardedHttpClient web, IOptions<KnowledgeOptions> options, TimeProvider time)
{
    private readonly KnowledgeOptions _options = options.Value;

    /// <param name="origin">what identifies the source in the knowledge base; null means <paramref name="source"/>.</param>
    /// <returns>what was queued (or found unchanged), or null when the content is larger than the file limit.</returns>
    public async Task<QueuedVersion?> AddAsync(KnowledgeBase kb, string source, string title, string? mediaType, Stream content, CancellationToken ct,
        string? origin = null)
    {
        var id = KeyMaterial.NewId("doc");
        var saved = await files.SaveAsync(id, content, _options.MaxFileBytes, ct);
        if (saved is null)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var document = new KnowledgeDocument(id, kb.Id, Clip(title, 300), Clip(source, 1000), mediaType, saved.Value.Size, saved.Value.Sha256,
            DocumentStatus.Queued, null, 0, 0, now, now, origin is null ? null : Clip(origin, 2000));
        var queued = await lifecycle.QueueAsync(document, ct);
        if (queued.Result == QueueResult.Queued)
        {
            signal.Notify();
        }
        return queued;
    }

    public Task<QueuedVersion?> AddTextAsync(KnowledgeBase kb, string title, string text, CancellationToken ct) =>
        AddAsync(kb, title.EndsWith(".md", StringComparison.OrdinalIgnoreCase) || title.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) ? title : title + ".txt",
            title, "text/plain", new MemoryStream(Encoding.UTF8.GetBytes(text)), ct);

    /// <summary>Fetches a URL through the guarded client and queues what it returned.</summary>
    public async Task<QueuedVersion?> AddUrlAsync(KnowledgeBase kb, Uri url, CancellationToken ct)
    {
        (Uri Url, string? MediaType, byte[] Body) fetched;
        try
        {
            fetched = await web.GetAsync(url, _options.MaxFileBytes, ct);
        }
        catch (HttpRequestException e) when (e.InnerException is BlockedUrlException blocked)
        {
            throw blocked;
        }
        var name = Path.GetFileName(fetched.Url.AbsolutePath);
        var extension = fetched.MediaType switch
        {
            "text/html" or "application/xhtml+xml" => ".html",
            "application/pdf" => ".pdf",
            "text/markdown" => ".md",
            "text/plain" => ".txt",
            "text/csv" => ".csv",
            _ => Path.GetExtension(name),
        };
        var source = string.IsNullOrEmpty(Path.GetExtension(name)) || !name.EndsWith(extension, StringComparison.OrdinalIgnoreCase) ? (name.Length > 0 ? name : "page") + extension : name;
        // The URL asked for identifies the source (where it redirects to may change between fetches).
        return await AddAsync(kb, source, fetched.Url.ToString(), fetched.MediaType, new MemoryStream(fetched.Body), ct, origin: url.AbsoluteUri);
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}
