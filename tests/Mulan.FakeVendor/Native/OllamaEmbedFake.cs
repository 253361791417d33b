using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Ollama <c>POST /api/embed</c>: <c>{model, input: string | [strings], dimensions?}</c> →
/// <c>{model, embeddings:[[…]], total_duration, load_duration, prompt_eval_count}</c>. Same key rule and error words
/// as <see cref="OllamaFake"/>.
/// </summary>
internal sealed class OllamaEmbedFake : NativeEmbeddings
{
    public const string Path = "/api/embed";
    private const int MaxDimensions = 4096;

    public override bool Serves(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path.Value == Path;

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => OllamaFake.Authorized(context, state);

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        OllamaFake.WriteError(context, kind, status, message, OllamaFake.ReadModel(context));

    protected override EmbeddingCall? ParseEmbeddings(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        var dimensions = EmbeddingRequest.DefaultDimensions;
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var m) || m.GetString() is not { Length: > 0 } model)
            {
                error = "model is required";
                return null;
            }
            context.Items[OllamaFake.ModelItem] = model;
            var texts = new List<string>();
            switch (root.TryGetProperty("input", out var input) ? input.ValueKind : JsonValueKind.Undefined)
            {
                case JsonValueKind.String:
                    texts.Add(input.GetString()!);
                    break;
                case JsonValueKind.Array when input.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String):
                    texts.AddRange(input.EnumerateArray().Select(i => i.GetString()!));
                    break;
                default:
                    error = "invalid input type";
                    return null;
            }
            if (root.TryGetProperty("dimensions", out var d) && (!d.TryGetInt32(out dimensions) || dimensions < 1 || dimensions > MaxDimensions))
            {
                error = "invalid dimensions";
                return null;
            }
            return new EmbeddingCall(model, texts, dimensions);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            error = e.Message;
            return null;
        }
    }

    protected override byte[] EmbeddingsBody(string id, EmbeddingCall call, IReadOnlyList<float[]> vectors, int? tokens)
    {
        var body = new JsonObject
        {
            ["model"] = call.Model,
            ["embeddings"] = new JsonArray([.. vectors.Select(v => (JsonNode)new JsonArray([.. v.Select(x => (JsonNode)x)]))]),
            ["total_duration"] = 14_143_917L,
            ["load_duration"] = 1_019_500L,
        };
        if (tokens is { } count)
        {
            body["prompt_eval_count"] = count;
        }
        return JsonSerializer.SerializeToUtf8Bytes(body);
    }
}
