using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Knowledge.Embedding.Local;

namespace Mulan.Knowledge.Embedding;

/// <summary>An embedding call failed. <see cref="Transient"/>: worth trying again later (vendor down, rate limited).</summary>
public sealed class EmbeddingException(string message, bool transient) : Exception(message)
{
    public bool Transient { get; } = transient;
}

/// <summary>
/// Turns texts into vectors for a knowledge base: with the bundled local encoder (<see cref="LocalModel"/>), or with
/// any embedding model on the gateway. Gateway calls go to this server's own <c>/v1/embeddings</c> on the
/// workspace's service key (<see cref="ServiceKeys"/>), so they are routed, metered and limited like any client's.
/// </summary>
public sealed class KnowledgeEmbedder(SelfGateway gateway, ServiceKeys keys, CatalogState catalog,
    IOptions<KnowledgeOptions> options) : IDisposable
{
    public const string LocalModel = LocalSentenceEncoder.ModelName;
    private const int MaxGatewayBatch = 64;
    private readonly Lazy<LocalSentenceEncoder> _local = new(() => LocalSentenceEncoder.Load(options.Value.LocalEncoderThreads));

    /// <summary>Share of a query's letters that may be CJK before the English-only local encoder stops being asked.</summary>
    public const double LocalMaxCjkShare = 0.3;

    /// <summary>
    /// Why <paramref name="model"/> should not embed <paramref name="query"/> (a question or a chunk), or null when it may. The bundled encoder
    /// was trained on English: on Chinese text its ranking is close to random (docs/benchmarks.md), and fusing it
    /// would only pull good keyword results down. Gateway models are taken to be as multilingual as their vendor says.
    /// </summary>
    public static string? Unsuited(string model, string query)
    {
        if (model != LocalModel)
        {
            return null;
        }
        int letters = 0, cjk = 0;
        foreach (var rune in query.EnumerateRunes())
        {
            if (Rune.IsLetter(rune))
            {
                letters++;
                if (rune.Value is >= 0x3400 and <= 0x9FFF or >= 0xF900 and <= 0xFAFF or >= 0x20000 and <= 0x3134F)
                {
                    cjk++;
                }
            }
        }
        return letters > 0 && cjk >= LocalMaxCjkShare * letters
            ? $"'{LocalModel}' is an English model: this Chinese query was answered by keyword search only (a multilingual embedding model on the gateway enables hybrid search in Chinese)"
            : null;
    }

    /// <summary>
    /// The local encoder's vectors, with an empty one for text it is unsuited to (mostly Chinese): its embedding would
    /// be noise that English queries could match, and skipping it makes Chinese documents as fast to ingest as with
    /// keyword search only.
    /// </summary>
    public static float[][] EmbedLocally(LocalSentenceEncoder encoder, IReadOnlyList<string> texts)
    {
        var suited = Enumerable.Range(0, texts.Count).Where(i => Unsuited(LocalModel, texts[i]) is null).ToList();
        var result = Enumerable.Repeat(Array.Empty<float>(), texts.Count).ToArray();
        if (suited.Count > 0)
        {
            var embedded = encoder.Embed([.. suited.Select(i => texts[i])]);
            for (var j = 0; j < suited.Count; j++)
            {
                result[suited[j]] = embedded[j];
            }
        }
        return result;
    }

    /// <summary>Why <paramref name="model"/> cannot embed for a knowledge base, or null when it can be tried.</summary>
    public string? Unusable(string model) =>
        model == LocalModel || catalog.Current.Models.ContainsKey(model)
            ? null
            : $"no model '{model}': use '{LocalModel}' (bundled, English) or the name of an embedding model in the catalog";

    /// <returns>one vector per text; with the local model, an empty one for text it is unsuited to (see <see cref="Unsuited"/>).</returns>
    public async Task<float[][]> EmbedAsync(string model, string workspaceId, IReadOnlyList<string> texts, CancellationToken ct)
    {
        if (texts.Count == 0)
        {
            return [];
        }
        if (model == LocalModel)
        {
            // CPU-bound: the encoder blocks this thread for the batch, which is what an ingestion worker is for.
            return EmbedLocally(_local.Value, texts);
        }
        var vectors = new List<float[]>(texts.Count);
        for (var start = 0; start < texts.Count; start += MaxGatewayBatch)
        {
            var batch = texts.Skip(start).Take(MaxGatewayBatch).ToList();
            vectors.AddRange(await CallGatewayAsync(model, workspaceId, batch, ct));
        }
        var dimensions = vectors[0].Length;
        if (vectors.Any(v => v.Length != dimensions || v.Length == 0))
        {
            throw new EmbeddingException($"model '{model}' returned vectors of different lengths", transient: false);
        }
        return [.. vectors];
    }

    private async Task<float[][]> CallGatewayAsync(string model, string workspaceId, List<string> batch, CancellationToken ct)
    {
        // An empty input is an error for some vendors; a space embeds as "nothing" everywhere.
        var body = new JsonObject { ["model"] = model, ["input"] = new JsonArray([.. batch.Select(t => JsonValue.Create(t.Length == 0 ? " " : t))]) };
        try
        {
            return Parse(model, await gateway.PostAsync("v1/embeddings", body, keys.BearerFor(workspaceId), ct), batch.Count);
        }
        catch (GatewayCallException e)
        {
            throw new EmbeddingException($"model '{model}' could not embed ({(e.Status == 0 ? "" : $"{e.Status}: ")}{e.Message})", e.Transient);
        }
    }

    private static float[][] Parse(string model, JsonNode answer, int expected)
    {
        try
        {
            var data = answer["data"]?.AsArray() ?? throw new EmbeddingException($"model '{model}' answered without 'data'", false);
            var vectors = new float[expected][];
            foreach (var item in data)
            {
                var index = item?["index"]?.GetValue<int>() ?? -1;
                var embedding = item?["embedding"]?.AsArray();
                if (index < 0 || index >= expected || embedding is null || vectors[index] is not null)
                {
                    throw new EmbeddingException($"model '{model}' answered with a malformed embedding list", false);
                }
                vectors[index] = [.. embedding.Select(v => v!.GetValue<float>())];
            }
            return vectors.Any(v => v is null)
                ? throw new EmbeddingException($"model '{model}' returned {data.Count} embeddings for {expected} inputs", false)
                : vectors;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new EmbeddingException($"model '{model}' answered with something that is not an embedding list", false);
        }
    }

    public void Dispose()
    {
        if (_local.IsValueCreated)
        {
            _local.Value.Dispose();
        }
    }
}
