using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Anthropic Messages: <c>POST /v1/messages</c> with <c>x-api-key</c> and <c>anthropic-version</c>; named SSE
/// events (<c>message_start</c>, <c>content_block_*</c>, <c>ping</c>, cumulative <c>message_delta</c> usage,
/// <c>message_stop</c>); errors as <c>{"type":"error","error":{type,message}}</c>, 529 when overloaded.
/// </summary>
internal sealed class AnthropicFake : NativeProtocol
{
    public const string Path = "/v1/messages";

    public override bool Serves(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path == Path;

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) =>
        Http.Header(context, "x-api-key") == state.ApiKey && Http.Header(context, "anthropic-version") == "2023-06-01";

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String)
            {
                error = "model: Field required";
                return null;
            }
            if (!root.TryGetProperty("max_tokens", out var max) || max.ValueKind != JsonValueKind.Number)
            {
                error = "max_tokens: Field required";
                return null;
            }
            if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            {
                error = "messages: Field required";
                return null;
            }
            string? previous = null;
            foreach (var m in messages.EnumerateArray())
            {
                var role = m.TryGetProperty("role", out var r) ? r.GetString() : null;
                if (role is not ("user" or "assistant"))
                {
                    error = $"messages: Unexpected role \"{role}\". Allowed roles are \"user\" or \"assistant\"; use the top-level system parameter for a system prompt.";
                    return null;
                }
                if (role == previous)
                {
                    error = "messages: roles must alternate between \"user\" and \"assistant\"";
                    return null;
                }
                previous = role;
            }
            if (root.TryGetProperty("temperature", out var t) && t.GetDouble() > 1)
            {
                error = "temperature: Input should be less than or equal to 1";
                return null;
            }
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            return new NativeTurn(model.GetString()!, stream, NativeTurn.CountPrompt(root, "model"), NativeTurn.Seed(body.Span));
        }
        catch (JsonException e)
        {
            error = "invalid JSON: " + e.Message;
            return null;
        }
    }

    protected override async Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds)
    {
        var (code, type, text) = kind switch
        {
            FakeErrorKind.Auth => (401, "authentication_error", "invalid x-api-key"),
            FakeErrorKind.RateLimit => (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
            FakeErrorKind.Quota => (400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."),
            FakeErrorKind.ContentFilter => (400, "invalid_request_error", "Output blocked by content filtering policy"),
            FakeErrorKind.Overloaded => (529, "overloaded_error", "Overloaded"),
            FakeErrorKind.Server => (status is >= 500 ? status : 500, "api_error", "Internal server error"),
            _ => (400, "invalid_request_error", message),
        };
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        context.Response.Headers["request-id"] = "req_" + Guid.NewGuid().ToString("N");
        if (retryAfterSeconds is { } after)
        {
            context.Response.Headers.RetryAfter = after.ToString(CultureInfo.InvariantCulture);
        }
        await context.Response.WriteAsync(Error(type, text));
    }

    private static string Error(string type, string message) =>
        new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }.ToJsonString();

    protected override byte[] Completion(string id, NativeReply reply)
    {
        var content = new JsonArray();
        if (reply.Tools)
        {
            for (var i = 0; i < NativeReply.ToolCalls.Count; i++)
            {
                var (name, arguments) = NativeReply.ToolCalls[i];
                content.Add(new JsonObject { ["type"] = "tool_use", ["id"] = ToolId(id, i), ["name"] = name, ["input"] = JsonNode.Parse(arguments) });
            }
        }
        else
        {
            content.Add(new JsonObject { ["type"] = "text", ["text"] = reply.Text });
        }
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["id"] = id,
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = reply.Turn.Model,
            ["content"] = content,
            ["stop_reason"] = reply.Tools ? "tool_use" : "end_turn",
            ["stop_sequence"] = null,
            ["usage"] = new JsonObject { ["input_tokens"] = reply.Turn.PromptTokens, ["output_tokens"] = reply.CompletionTokens },
        });
    }

    private static string ToolId(string id, int index) => $"toolu_{id}_{index}";

    protected override string StreamContentType => "text/event-stream; charset=utf-8";

    protected override byte[] StreamStart(string id, NativeReply reply)
    {
        var start = new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = id,
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = reply.Turn.Model,
                ["content"] = new JsonArray(),
                ["stop_reason"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = reply.Turn.PromptTokens, ["output_tokens"] = 1 },
            },
        };
        var frames = Sse("message_start", start.ToJsonString()).Concat(Sse("ping", """{"type": "ping"}"""));
        if (!reply.Tools)
        {
            frames = frames.Concat(Sse("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""));
        }
        return [.. frames];
    }

    protected override byte[] TextFrame(string id, NativeReply reply, int index) => Sse("content_block_delta",
        new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = reply.Words[index] } }.ToJsonString());

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call)
    {
        var (name, _) = NativeReply.ToolCalls[call];
        yield return (Sse("content_block_start", new JsonObject
        {
            ["type"] = "content_block_start",
            ["index"] = call,
            ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = ToolId(id, call), ["name"] = name, ["input"] = new JsonObject() },
        }.ToJsonString()), NativeReply.NameTokens(call));
        var pieces = NativeReply.ArgumentPieces(call);
        for (var p = 0; p < pieces.Count; p++)
        {
            var frame = Sse("content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta",
                ["index"] = call,
                ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = pieces[p] },
            }.ToJsonString());
            // The block closes with its last piece, as Anthropic sends it.
            yield return (p == pieces.Count - 1 ? [.. frame, .. Sse("content_block_stop", $$"""{"type":"content_block_stop","index":{{call}}}""")] : frame, 1);
        }
    }

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens)
    {
        var stop = reply.Tools ? [] : Sse("content_block_stop", """{"type":"content_block_stop","index":0}""");
        var delta = new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = reply.Tools ? "tool_use" : "end_turn", ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = completionTokens },
        };
        return [.. stop, .. Sse("message_delta", delta.ToJsonString()), .. Sse("message_stop", """{"type":"message_stop"}""")];
    }

    protected override byte[] StreamError(string id) => Sse("error", Error("overloaded_error", "Overloaded"));
}
