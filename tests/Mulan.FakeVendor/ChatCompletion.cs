using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>
/// The non-streaming reply. The body is built synchronously into a per-thread buffer with a
/// per-thread writer and copied straight into Kestrel's pipe, so a request allocates little.
/// </summary>
internal static class ChatCompletion
{
    private const string Endpoint = "chat";

    public static async Task WriteAsync(HttpContext context, VendorState state, string id, ChatRequest request, ModelSpec spec)
    {
        if (spec.ResetAfter is not null)
        {
            // Nothing to stream, so a reset here means: the connection dies before any byte.
            state.Bill(context, id, Endpoint, request.Model, request.PromptTokens, 0, BillOutcome.Reset);
            context.Abort();
            return;
        }

        var completion = spec.Tools ? ToolCallScript.TotalTokens : spec.Chunks;
        var usage = !spec.NoUsage;
        var buffer = Json.Scratch();
        WriteBody(Json.Writer(buffer), id, request, spec, completion, usage);

        context.Response.ContentType = "application/json";
        await Http.WriteBilledAsync(
            context,
            state,
            buffer,
            outcome => state.Bill(context, id, Endpoint, request.Model, request.PromptTokens, completion, outcome, usageSent: usage));
    }

    private static void WriteBody(Utf8JsonWriter json, string id, ChatRequest request, ModelSpec spec, int completion, bool usage)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        json.WriteString("model", request.Model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        if (spec.Tools)
        {
            json.WriteNull("content");
            ToolCallScript.WriteMessageToolCalls(json, id);
        }
        else if (spec.Echo)
        {
            json.WriteString("content", request.LastUserText);
        }
        else
        {
            json.WritePropertyName("content");
            WriteReplyText(json, request.ReplyStart, spec.Chunks);
        }

        json.WriteNull("refusal");
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", spec.Tools ? "tool_calls" : "stop");
        json.WriteEndObject();
        json.WriteEndArray();
        if (usage)
        {
            json.WritePropertyName("usage");
            Json.WriteUsage(json, request.PromptTokens, completion);
        }

        json.WriteString("system_fingerprint", "fp_fake");
        json.WriteEndObject();
        json.Flush();
    }

    /// <summary>The reply as one JSON string, written word by word from the prebuilt UTF-8.</summary>
    private static void WriteReplyText(Utf8JsonWriter json, int start, int count)
    {
        if (count == 0)
        {
            json.WriteStringValue(""u8);
            return;
        }

        for (var i = 0; i < count; i++)
        {
            json.WriteStringValueSegment(ReplyVocabulary.WordUtf8(ReplyVocabulary.Index(start, i)), isFinalSegment: i == count - 1);
        }
    }
}
