using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Governance;
using Mulan.Knowledge;
using Mulan.Storage;

namespace Mulan.Hosting;

/// <summary>
/// What a started server says about itself, on the console: where it listens and keeps its data, which providers,
/// models and knowledge bases it loaded, and which optional engines it found. Never a secret: providers show their
/// kind and host only.
/// </summary>
public static class StartupSummary
{
    public static async Task<string> DescribeAsync(IServiceProvider services, CancellationToken ct)
    {
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var governance = services.GetRequiredService<IOptions<GovernanceOptions>>().Value;
        var catalog = services.GetRequiredService<CatalogState>().Current;
        var engines = services.GetRequiredService<KnowledgeEngines>();
        var urls = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var w = new StringWriter();
        w.WriteLine();
        w.WriteLine($"Mulan {MulanVersion.Current} is running.");
        Line(w, "url", string.Join(", ", urls));
        Line(w, "data", Path.GetFullPath(storage.DataDirectory));
        Line(w, "storage", $"{(storage.UsesPostgres ? "PostgreSQL (" + services.GetRequiredService<IStorageDatabase>().Describe() + ")" : $"SQLite ({storage.DatabasePath})")}; rate limits {(governance.Redis is null ? "in this process" : "shared through Redis")}");
        Line(w, "admin key", services.GetRequiredService<AdminKey>().Origin);
        // The built-in provider "local" (the speech and OCR engines) is on its own line below.
        var configured = catalog.Providers.Values.Where(p => p.Kind.Protocol != WireProtocol.Local).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        Line(w, "providers", configured.Count == 0
            ? "none; add one with --config or POST /api/providers (see docs/getting-started.md)"
            : string.Join(", ", configured.Select(p => $"{p.Name} ({p.Kind.Name}, {p.BaseUrl.Host}{(p.IsLocal ? ", local" : "")})")));
        Line(w, "models", catalog.Models.Count == 0
            ? "none"
            : string.Join(", ", catalog.Models.Values.OrderBy(m => m.Name, StringComparer.Ordinal)
                .Select(m => $"{m.Name} → {string.Join(" | ", m.Deployments.Select(d => $"{d.Provider.Name}/{d.VendorModel}"))}")));
        var store = services.GetRequiredService<IKnowledgeStore>();
        var knowledgeBases = new List<string>();
        foreach (var kb in await store.ListKnowledgeBasesAsync(null, ct))
        {
            knowledgeBases.Add($"{kb.Name} ({(await store.ListDocumentsAsync(kb.Id, ct)).Count} documents)");
        }
        Line(w, "knowledge", knowledgeBases.Count == 0 ? "none" : string.Join(", ", knowledgeBases));
        Line(w, "OCR", engines.Ocr is { } ocr
            ? $"tesseract ({string.Join(", ", ocr.Languages)})"
            : "not found: images and scanned PDFs cannot be read (install tesseract-ocr, tesseract-ocr-chi-sim, tesseract-ocr-chi-tra)");
        var speech = new[] { "ffmpeg", "espeak-ng", "flite", "pocketsphinx_continuous", "pdftoppm" }.Where(p => Speech.Engines.EngineProcess.Find(p) is not null).ToList();
        Line(w, "speech", speech.Count == 0
            ? "no local engines found (the provider 'local' can still run tesseract; see docs/speech.md)"
            : $"local engines: {string.Join(", ", speech)}");
        Line(w, "encoder", engines.LocalEncoder
            ? "local-minilm (bundled, English, offline)"
            : "local-minilm missing from the installation: knowledge bases use keyword search or a gateway embedding model");
        return w.ToString();
    }

    private static void Line(StringWriter w, string label, string value) => w.WriteLine($"  {label,-10} {value}");
}
