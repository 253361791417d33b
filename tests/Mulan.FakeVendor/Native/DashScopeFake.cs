using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Alibaba DashScope native text generation: <c>POST /api/v1/services/aigc/text-generation/generation</c> with
/// <c>Authorization: Bearer</c>, messages in <c>input</c>, options in <c>parameters</c>. Streams when
/// <c>X-DashScope-SSE: enable</c> as <c>id:</c>/<c>event:result</c>/<c>:HTTP_STATUS/200</c>/<c>data:</c> events with
/// <c>finish_reason:"null"</c> until the last and cumulative usage on each; without <c>incremental_output</c> every
/// event repeats the whole text so far, and without <c>result_format:"message"</c> the answer is in
/// <c>output.text</c>, as DashScope does. Errors are <c>{request_id, code, message}</c> with the HTTP status, as an
/// <c>event:error</c> when a stream was asked for.
/// </summary>
internal sealed class DashScopeFake : NativeProtocol
{
    public const string Path = "/api/v1/services/aigc/text-generation/generation";

    private static readonly ConditionalWeakTable<NativeTurn, Options> Requested = [];

    /// <summary>What the request asked about the shape of the answer.</summary>
    private sealed record Options(bool Incremental, bool MessageFormat);

    public override bool Serves(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path == Path;

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => IsAuthorized(context, state);

    internal static bool IsAuthorized(HttpContext context, VendorState state) => Http.Header(context, "Authorization") == state.ExpectedAuthorization;

    internal static bool WantsStream(HttpContext context) =>
        Http.Header(context, "X-DashScope-SSE") == "enable" || (Http.Header(context, "Accept")?.Contains("text/event-stream", StringComparison.Ordinal) ?? false);

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString()!.Length == 0)
            {
                error = "Required parameter(s) missing or invalid, please check the request parameters: model";
                return null;
            }
            if (!root.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object
                || !input.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            {
                error = "Required parameter(s) missing or invalid, please check the request parameters: input.messages";
                return null;
            }
            foreach (var m in messages.EnumerateArray())
            {
                var role = m.TryGetProperty("role", out var r) ? r.GetString() : null;
                if (role is not ("system" or "user" or "assistant" or "tool"))
                {
                    error = $"Role must be in [system, user, assistant, tool]: {role}";
                    return null;
                }
                if (!m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                {
                    error = "The content field in messages must be a string for text generation models.";
                    return null;
                }
            }
            var parameters = root.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
            if (CheckParameters(parameters) is { } parameterError)
            {
                error = parameterError;
                return null;
            }
            var turn = new NativeTurn(model.GetString()!, WantsStream(context), NativeTurn.CountPrompt(root, "model"), NativeTurn.Seed(body.Span));
            Requested.Add(turn, new Options(
                parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("incremental_output", out var incremental) && incremental.ValueKind == JsonValueKind.True,
                parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("result_format", out var format) && format.ValueEquals("message")));
            return turn;
        }
        catch (JsonException)
        {
            error = "Request body is not valid JSON.";
            return null;
        }
    }

    private static string? CheckParameters(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        if (parameters.TryGetProperty("temperature", out var t) && (t.ValueKind != JsonValueKind.Number || t.GetDouble() is < 0 or >= 2))
        {
            return "Range of temperature should be [0.0, 2.0)";
        }
        if (parameters.TryGetProperty("top_p", out var p) && (p.ValueKind != JsonValueKind.Number || p.GetDouble() is <= 0 or > 1))
        {
            return "Range of top_p should be (0.0, 1.0]";
        }
        if (parameters.TryGetProperty("max_tokens", out var m) && (!m.TryGetInt32(out var max) || max < 1))
        {
            return "Range of max_tokens should be [1, 8192]";
        }
        if (parameters.TryGetProperty("stop", out var stop) && stop.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return "stop should be a string or a list of strings";
        }
        if (parameters.TryGetProperty("tools", out var tools))
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                return "tools should be a list";
            }
            foreach (var tool in tools.EnumerateArray())
            {
                if (!tool.TryGetProperty("type", out var type) || !type.ValueEquals("function") || !tool.TryGetProperty("function", out var function)
                    || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                    || (function.TryGetProperty("parameters", out var schema) && schema.ValueKind != JsonValueKind.Object))
                {
                    return "tools must be [{type:\"function\", function:{name, description, parameters:{...}}}]";
                }
            }
        }
        if (parameters.TryGetProperty("tool_choice", out var choice) && !(choice.ValueKind == JsonValueKind.String && (choice.ValueEquals("auto") || choice.ValueEquals("none")))
            && !(choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var forced) && forced.TryGetProperty("name", out _)))
        {
            return "tool_choice should be \"auto\", \"none\" or {\"type\": \"function\", \"function\": {\"name\": ...}}";
        }
        return null;
    }

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        WriteDashScopeErrorAsync(context, kind, status, message, retryAfterSeconds);

    internal static async Task WriteDashScopeErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds)
    {
        var (code, name, text) = kind switch
        {
            FakeErrorKind.Auth => (401, "InvalidApiKey", Http.Header(context, "Authorization") is null ? "No API-key provided." : "Invalid API-key provided."),
            FakeErrorKind.RateLimit => (429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
            FakeErrorKind.Quota => (400, "Arrearage", "Access denied, please make sure your account is in good standing."),
            FakeErrorKind.ContentFilter => (400, "DataInspectionFailed", "Input data may contain inappropriate content."),
            FakeErrorKind.Overloaded => (503, "ServiceUnavailable", "The service is temporarily unavailable, please try again later."),
            FakeErrorKind.Server => (status >= 500 ? status : 500, "InternalError", "An internal error has occured, please try again later or contact service support."),
            _ => (400, "InvalidParameter", message),
        };
        var json = Error(context.Response.Headers["x-request-id"].ToString(), name, text);
        context.Response.StatusCode = code;
        if (retryAfterSeconds is { } after)
        {
            context.Response.Headers.RetryAfter = after.ToString(CultureInfo.InvariantCulture);
        }
        if (WantsStream(context))
        {
            context.Response.ContentType = "text/event-stream;charset=UTF-8";
            await context.Response.WriteAsync($"id:1\nevent:error\n:HTTP_STATUS/{code}\ndata:{json}\n\n");
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    }

    private static string Error(string requestId, string code, string message) =>
        new JsonObject { ["request_id"] = requestId, ["code"] = code, ["message"] = message }.ToJsonString(HunyuanFake.Relaxed);

    private static string ToolId(string id, int index) => $"call_{id}_{index}";

    private static Options OptionsOf(NativeReply reply) => Requested.TryGetValue(reply.Turn, out var options) ? options : new Options(false, false);

    private static JsonObject Usage(NativeReply reply, int completion) => new()
    {
        ["total_tokens"] = reply.Turn.PromptTokens + completion,
        ["output_tokens"] = completion,
        ["input_tokens"] = reply.Turn.PromptTokens,
    };

    private static JsonObject Output(NativeReply reply, JsonObject message, string finish) => OptionsOf(reply).MessageFormat
        ? new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["message"] = message, ["finish_reason"] = finish }) }
        : new JsonObject { ["text"] = message["content"]?.DeepClone(), ["finish_reason"] = finish };

    private static string Body(string id, NativeReply reply, JsonObject message, string finish, int completion) => new JsonObject
    {
        ["output"] = Output(reply, message, finish),
        ["usage"] = Usage(reply, completion),
        ["request_id"] = id,
    }.ToJsonString(HunyuanFake.Relaxed);

    protected override byte[] Completion(string id, NativeReply reply)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Tools ? "" : reply.Text };
        if (reply.Tools)
        {
            var calls = new JsonArray();
            for (var i = 0; i < NativeReply.ToolCalls.Count; i++)
            {
                var (name, arguments) = NativeReply.ToolCalls[i];
                calls.Add(new JsonObject
                {
                    ["index"] = i,
                    ["id"] = ToolId(id, i),
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
                });
            }
            message["tool_calls"] = calls;
        }
        return Encoding.UTF8.GetBytes(Body(id, reply, message, reply.Tools ? "tool_calls" : "stop", reply.CompletionTokens));
    }

    protected override string StreamContentType => "text/event-stream;charset=UTF-8";

    protected override byte[] StreamStart(string id, NativeReply reply) => [];

    private static byte[] Event(int number, string json) => Encoding.UTF8.GetBytes($"id:{number}\nevent:result\n:HTTP_STATUS/200\ndata:{json}\n\n");

    protected override byte[] TextFrame(string id, NativeReply reply, int index)
    {
        var text = OptionsOf(reply).Incremental ? reply.Words[index] : string.Concat(reply.Words.Take(index + 1));
        return Event(index + 1, Body(id, reply, new JsonObject { ["content"] = text, ["role"] = "assistant" }, "null", index + 1));
    }

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call)
    {
        var (name, _) = NativeReply.ToolCalls[call];
        var number = Enumerable.Range(0, call).Sum(c => 1 + NativeReply.ArgumentPieces(c).Count);
        var completion = Enumerable.Range(0, call).Sum(c => NativeReply.NameTokens(c) + NativeReply.ArgumentPieces(c).Count) + NativeReply.NameTokens(call);
        yield return (Event(++number, Body(id, reply, ToolMessage(call, ToolId(id, call), name, ""), "null", completion)), NativeReply.NameTokens(call));
        foreach (var piece in NativeReply.ArgumentPieces(call))
        {
            yield return (Event(++number, Body(id, reply, ToolMessage(call, "", null, piece), "null", ++completion)), 1);
        }
    }

    private static JsonObject ToolMessage(int index, string id, string? name, string arguments)
    {
        var function = new JsonObject();
        if (name is not null)
        {
            function["name"] = name;
        }
        function["arguments"] = arguments;
        return new JsonObject
        {
            ["content"] = "",
            ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = index, ["id"] = id, ["type"] = "function", ["function"] = function }),
            ["role"] = "assistant",
        };
    }

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens)
    {
        var number = 1 + (reply.Tools ? Enumerable.Range(0, NativeReply.ToolCalls.Count).Sum(c => 1 + NativeReply.ArgumentPieces(c).Count) : reply.Words.Count);
        var content = reply.Tools || OptionsOf(reply).Incremental ? "" : reply.Text;
        return Event(number, Body(id, reply, new JsonObject { ["content"] = content, ["role"] = "assistant" }, reply.Tools ? "tool_calls" : "stop", completionTokens));
    }

    protected override byte[] StreamError(string id) =>
        Encoding.UTF8.GetBytes($"event:error\n:HTTP_STATUS/500\ndata:{Error(id, "InternalError", "An internal error has occured, please try again later or contact service support.")}\n\n");
}

/// <summary>
/// DashScope text embedding: <c>POST /api/v1/services/embeddings/text-embedding/text-embedding</c>,
/// <c>{model, input:{texts:[…]}, parameters:{dimension}}</c> → <c>{output:{embeddings:[{text_index, embedding}]},
/// usage:{total_tokens}, request_id}</c>. At most <see cref="MaxTexts"/> texts a call, as for text-embedding-v3/v4.
/// </summary>
internal sealed class DashScopeEmbeddingsFake : NativeEmbeddings
{
    public const string Path = "/api/v1/services/embeddings/text-embedding/text-embedding";
    public const int MaxTexts = 10;
    public const int DefaultDimension = 1024;
    private static readonly int[] Dimensions = [2048, 1536, 1024, 768, 512, 256, 128, 64];

    public override bool Serves(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path == Path;

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => DashScopeFake.IsAuthorized(context, state);

    protected override EmbeddingCall? ParseEmbeddings(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String)
            {
                error = "Required parameter(s) missing or invalid, please check the request parameters: model";
                return null;
            }
            if (!root.TryGetProperty("input", out var input) || !input.TryGetProperty("texts", out var texts) || texts.ValueKind != JsonValueKind.Array
                || texts.GetArrayLength() == 0 || texts.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
            {
                error = "Required parameter(s) missing or invalid, please check the request parameters: input.texts";
                return null;
            }
            if (texts.GetArrayLength() > MaxTexts)
            {
                error = $"batch size is invalid, it should not be larger than {MaxTexts}.: input.contents";
                return null;
            }
            var dimension = DefaultDimension;
            if (root.TryGetProperty("parameters", out var parameters) && parameters.TryGetProperty("dimension", out var d)
                && (!d.TryGetInt32(out dimension) || !Dimensions.Contains(dimension)))
            {
                error = $"Value error, dimension must be one of {string.Join(", ", Dimensions)}.: parameters.dimension";
                return null;
            }
            return new EmbeddingCall(model.GetString()!, [.. texts.EnumerateArray().Select(t => t.GetString()!)], dimension);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            error = "Request body is not a valid JSON object.";
            return null;
        }
    }

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        DashScopeFake.WriteDashScopeErrorAsync(context, kind, status, message, retryAfterSeconds);

    protected override byte[] EmbeddingsBody(string id, EmbeddingCall call, IReadOnlyList<float[]> vectors, int? tokens)
    {
        var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output, Json.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("output");
            json.WriteStartArray("embeddings");
            for (var i = 0; i < vectors.Count; i++)
            {
                json.WriteStartObject();
                json.WriteNumber("text_index", i);
                json.WriteStartArray("embedding");
                foreach (var value in vectors[i])
                {
                    json.WriteNumberValue(value);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            if (tokens is { } t)
            {
                json.WriteStartObject("usage");
                json.WriteNumber("total_tokens", t);
                json.WriteEndObject();
            }
            json.WriteString("request_id", id);
            json.WriteEndObject();
        }
        return output.ToArray();
    }
}
