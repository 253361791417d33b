using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>
/// <c>POST /v1/embeddings</c>. Honours the model options that make sense without a stream:
/// <c>fail=</c>, <c>firstbyte=</c>, <c>nousage</c> and <c>reset=</c> (connection dropped before any byte).
/// </summary>
internal static class EmbeddingsHandler
{
    private const string Endpoint = "embeddings";

    public static async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var id = state.NextId("emb-");
        context.Response.Headers["x-request-id"] = id;

        if (!EmbeddingRequest.TryParse(body, out var request, out var parseError))
        {
            state.BillFailed(context, id, Endpoint, request.Model);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest(parseError));
            return;
        }

        var fault = state.TakeFault();
        if (fault is FakeFault.Status status)
        {
            state.BillFailed(context, id, Endpoint, request.Model);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.ForStatus(status.Code), status.RetryAfterSeconds);
            return;
        }

        if (!ModelSpec.TryParse(request.Model, out var spec, out var specError))
        {
            state.BillFailed(context, id, Endpoint, request.Model);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest(specError));
            return;
        }

        spec = spec.With(fault);
        if (spec.FailStatus is { } code)
        {
            state.BillFailed(context, id, Endpoint, request.Model);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.ForStatus(code), code == 429 ? 1 : null);
            return;
        }

        var prompt = request.PromptTokens;
        if (!await ChatHandler.DelayAsync(context, spec.FirstByteMs))
        {
            state.Bill(context, id, Endpoint, request.Model, prompt, 0, BillOutcome.ClientAborted);
            return;
        }

        if (spec.ResetAfter is not null)
        {
            state.Bill(context, id, Endpoint, request.Model, prompt, 0, BillOutcome.Reset);
            context.Abort();
            return;
        }

        var buffer = Json.Scratch();
        WriteBody(Json.Writer(buffer), request, usage: !spec.NoUsage);
        context.Response.ContentType = "application/json";
        await Http.WriteBilledAsync(
            context,
            state,
            buffer,
            outcome => state.Bill(context, id, Endpoint, request.Model, prompt, 0, outcome, usageSent: !spec.NoUsage));
    }

    private static void WriteBody(Utf8JsonWriter json, EmbeddingRequest request, bool usage)
    {
        Span<float> vector = request.Dimensions <= 1024 ? stackalloc float[request.Dimensions] : new float[request.Dimensions];
        Span<byte> bytes = request.Dimensions <= 1024 ? stackalloc byte[request.Dimensions * 4] : new byte[request.Dimensions * 4];

        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            EmbeddingVectors.Fill(request.Inputs[i].Seed, vector);
            json.WriteStartObject();
            json.WriteString("object", "embedding");
            json.WriteNumber("index", i);
            if (request.Base64)
            {
                EmbeddingVectors.ToLittleEndian(vector, bytes);
                json.WriteBase64String("embedding", bytes);
            }
            else
            {
                json.WriteStartArray("embedding");
                foreach (var value in vector)
                {
                    json.WriteNumberValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model", request.Model);
        if (usage)
        {
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", request.PromptTokens);
            json.WriteNumber("total_tokens", request.PromptTokens);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.Flush();
    }
}
