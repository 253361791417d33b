using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Ollama's native API: <c>POST /api/chat</c> (streams unless <c>"stream": false</c>) and <c>POST /api/embed</c>
/// (<see cref="OllamaEmbedFake"/>). No key locally; behind a proxy a bearer key, so the fake takes a request with
/// no <c>Authorization</c> or with the right key and refuses a wrong one. Streams are NDJSON ending with a
/// <c>done:true</c> line holding <c>prompt_eval_count</c>/<c>eval_count</c>; tool calls arrive whole, arguments as
/// objects; errors are <c>{"error":"…"}</c>, and a stream can end with such a line.
/// </summary>
internal sealed class OllamaFake : NativeProtocol
{
    public const string ChatPath = "/api/chat";

    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "user", "assistant", "tool" };

    public override bool Serves(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path.Value == ChatPath;

    public static bool Authorized(HttpContext context, VendorState state) =>
        Http.Header(context, "Authorization") is not { } header || header == state.ExpectedAuthorization;

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => Authorized(context, state);

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var model) || model.GetString() is not { Length: > 0 } name)
            {
                error = "model is required";
                return null;
            }
            context.Items[ModelItem] = name;
            if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                error = "messages is required";
                return null;
            }
            foreach (var m in messages.EnumerateArray())
            {
                if (MessageError(m) is { } messageError)
                {
                    error = messageError;
                    return null;
                }
            }
            if (root.TryGetProperty("options", out var options) && options.ValueKind != JsonValueKind.Object)
            {
                error = "json: cannot unmarshal " + Kind(options) + " into Go struct field ChatRequest.options of type map[string]interface {}";
                return null;
            }
            if (root.TryGetProperty("format", out var format) && format.ValueKind != JsonValueKind.Object && format.GetString() is not ("json" or ""))
            {
                error = $"invalid format: \"{format}\"; expected \"json\" or a valid JSON Schema";
                return null;
            }
            // Ollama's default is to stream.
            var stream = !root.TryGetProperty("stream", out var s) || s.ValueKind != JsonValueKind.False;
            error = "";
            return new NativeTurn(name, stream, NativeTurn.CountPrompt(root, "model"), NativeTurn.Seed(body.Span));
        }
        catch (JsonException e)
        {
            error = e.Message;
            return null;
        }
    }

    private static string? MessageError(JsonElement m)
    {
        var role = m.TryGetProperty("role", out var r) ? r.GetString() : null;
        if (role is null || !Roles.Contains(role))
        {
            return $"invalid role: {role}, role must be one of [system, user, assistant, tool]";
        }
        if (m.TryGetProperty("content", out var content) && content.ValueKind != JsonValueKind.String)
        {
            return "json: cannot unmarshal " + Kind(content) + " into Go struct field Message.messages.content of type string";
        }
        if (m.TryGetProperty("images", out var images))
        {
            foreach (var image in images.EnumerateArray())
            {
                var data = image.GetString() ?? "";
                if (!Convert.TryFromBase64String(data, new byte[data.Length], out _))
                {
                    return "illegal base64 data at input byte 4";
                }
            }
        }
        if (m.TryGetProperty("tool_calls", out var calls))
        {
            foreach (var call in calls.EnumerateArray())
            {
                if (call.TryGetProperty("function", out var f) && f.TryGetProperty("arguments", out var arguments) && arguments.ValueKind != JsonValueKind.Object)
                {
                    return "json: cannot unmarshal " + Kind(arguments) + " into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments";
                }
            }
        }
        return null;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Array => "array",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "object",
    };

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        WriteError(context, kind, status, message, ReadModel(context));

    internal static string ReadModel(HttpContext context) => context.Items.TryGetValue(ModelItem, out var m) ? m as string ?? "" : "";

    internal const string ModelItem = "ollama-model";

    /// <summary>Ollama's error body: one string. Its cloud refuses an exhausted plan with a 429 "usage limit".</summary>
    public static Task WriteError(HttpContext context, FakeErrorKind kind, int status, string message, string model)
    {
        var (code, text) = kind switch
        {
            FakeErrorKind.Auth => (401, "unauthorized"),
            FakeErrorKind.RateLimit => (429, "too many concurrent requests, please slow down"),
            FakeErrorKind.Quota => (429, "you (fake) have reached your weekly usage limit, upgrade for higher limits: https://ollama.com/upgrade"),
            FakeErrorKind.Overloaded => (503, "server busy, please try again.  maximum pending requests exceeded"),
            FakeErrorKind.Server => (status >= 500 ? status : 500, "llama runner process has terminated: exit status 2"),
            // Ollama runs no moderation: a refused prompt is not something it reports, so this is a plain 400.
            FakeErrorKind.ContentFilter => (400, "request refused"),
            _ when status == 404 => (404, $"model \"{model}\" not found, try pulling it first"),
            _ => (400, message),
        };
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(new JsonObject { ["error"] = text }.ToJsonString(), CancellationToken.None);
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>One response object; the message's role comes first, as Ollama writes it.</summary>
    private static JsonObject Line(NativeReply reply, string content, JsonArray? toolCalls, bool done)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
        if (toolCalls is not null)
        {
            message["tool_calls"] = toolCalls;
        }
        return new JsonObject { ["model"] = reply.Turn.Model, ["created_at"] = Now(), ["message"] = message, ["done"] = done };
    }

    private static void Finish(JsonObject line, NativeReply reply, int completionTokens)
    {
        line["done_reason"] = "stop";
        line["total_duration"] = 1_250_000_000L;
        line["load_duration"] = 25_000_000L;
        line["prompt_eval_count"] = reply.Turn.PromptTokens;
        line["prompt_eval_duration"] = 120_000_000L;
        line["eval_count"] = completionTokens;
        line["eval_duration"] = 1_000_000_000L;
    }

    private static JsonObject Call(int index)
    {
        var (name, arguments) = NativeReply.ToolCalls[index];
        return new JsonObject { ["function"] = new JsonObject { ["name"] = name, ["arguments"] = JsonNode.Parse(arguments) } };
    }

    protected override byte[] Completion(string id, NativeReply reply)
    {
        var calls = reply.Tools ? new JsonArray([.. Enumerable.Range(0, NativeReply.ToolCalls.Count).Select(i => (JsonNode)Call(i))]) : null;
        var line = Line(reply, reply.Tools ? "" : reply.Text, calls, done: true);
        Finish(line, reply, reply.CompletionTokens);
        return JsonSerializer.SerializeToUtf8Bytes(line);
    }

    protected override string StreamContentType => "application/x-ndjson";

    protected override byte[] StreamStart(string id, NativeReply reply) => [];

    protected override byte[] TextFrame(string id, NativeReply reply, int index) =>
        Ndjson(Line(reply, reply.Words[index], null, done: false));

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call)
    {
        yield return (Ndjson(Line(reply, "", new JsonArray(Call(call)), done: false)), NativeReply.NameTokens(call) + NativeReply.ArgumentPieces(call).Count);
    }

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens)
    {
        var line = Line(reply, "", null, done: true);
        Finish(line, reply, completionTokens);
        return Ndjson(line);
    }

    protected override byte[] StreamError(string id) => Ndjson(new JsonObject { ["error"] = "an error was encountered while running the model: unexpected EOF" });

    private static byte[] Ndjson(JsonObject line) => Encoding.UTF8.GetBytes(line.ToJsonString() + "\n");
}
