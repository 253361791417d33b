using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Gemini <c>POST /v1beta/models/{model}:batchEmbedContents</c>: <c>{requests:[{model:"models/…", content:{parts:[{text}]},
/// outputDimensionality?}]}</c> → <c>{embeddings:[{values}]}</c>. Gemini reports no token count for embeddings, so the
/// body never carries one. Same key and error words as <see cref="GeminiFake"/>.
/// </summary>
internal sealed class GeminiEmbeddingsFake : NativeEmbeddings
{
    private const int MaxDimensions = 3072;

    public override bool Serves(HttpRequest request) => GeminiFake.Serves(request, "batchEmbedContents");

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => GeminiFake.Authorized(context, state);

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds)
    {
        var (model, method) = GeminiFake.Split(context.Request.Path.Value!);
        return GeminiFake.WriteError(context, kind, status, message, retryAfterSeconds, model, method);
    }

    protected override EmbeddingCall? ParseEmbeddings(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        var (model, _) = GeminiFake.Split(context.Request.Path.Value!);
        var dimensions = EmbeddingRequest.DefaultDimensions;
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("requests", out var requests) || requests.ValueKind != JsonValueKind.Array || requests.GetArrayLength() == 0)
            {
                error = "* BatchEmbedContentsRequest.requests: requests is not specified";
                return null;
            }
            var texts = new List<string>();
            var i = 0;
            foreach (var request in requests.EnumerateArray())
            {
                if (!request.TryGetProperty("model", out var m) || m.GetString() != "models/" + model)
                {
                    error = $"* BatchEmbedContentsRequest.requests[{i}].model: every request must name models/{model}, the model of the URL";
                    return null;
                }
                var text = new StringBuilder();
                if (request.TryGetProperty("content", out var content) && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
                {
                    foreach (var part in parts.EnumerateArray())
                    {
                        if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                        {
                            text.Append(t.GetString());
                        }
                    }
                }
                if (text.Length == 0)
                {
                    error = $"* BatchEmbedContentsRequest.requests[{i}].content: contents is not specified";
                    return null;
                }
                if (request.TryGetProperty("outputDimensionality", out var d) && (!d.TryGetInt32(out dimensions) || dimensions < 1 || dimensions > MaxDimensions))
                {
                    error = $"* BatchEmbedContentsRequest.requests[{i}].output_dimensionality: must be between 1 and {MaxDimensions}";
                    return null;
                }
                texts.Add(text.ToString());
                i++;
            }
            return new EmbeddingCall(model, texts, dimensions);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            error = "Invalid JSON payload received. " + e.Message;
            return null;
        }
    }

    protected override byte[] EmbeddingsBody(string id, EmbeddingCall call, IReadOnlyList<float[]> vectors, int? tokens)
    {
        var embeddings = new JsonArray();
        foreach (var vector in vectors)
        {
            embeddings.Add(new JsonObject { ["values"] = new JsonArray([.. vector.Select(v => (JsonNode)v)]) });
        }
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["embeddings"] = embeddings });
    }
}
