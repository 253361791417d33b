using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Tencent Hunyuan over Tencent Cloud API 3.0: <c>POST /</c> with <c>X-TC-Action: ChatCompletions</c>, version
/// <c>2023-09-01</c>, signed TC3-HMAC-SHA256 and checked here by an implementation of its own, with the key pair
/// (<see cref="SecretId"/>, the fake's API key) and at most <see cref="MaxSkewSeconds"/> of clock skew. PascalCase
/// bodies, unknown parameters refused; answers wrapped in <c>Response</c>; streams of unwrapped <c>data:</c> chunks
/// with cumulative <c>Usage</c>, ending with a <c>FinishReason</c>; every error in an HTTP 200 body
/// <c>{"Response":{"Error":{Code,Message},"RequestId"}}</c>, also in answer to a stream request.
/// </summary>
internal sealed class HunyuanFake : NativeProtocol
{
    /// <summary>The fake's SecretId; its SecretKey is the fake's API key, so a provider's apiKey is <c>AKIDfake:</c> + key.</summary>
    public const string SecretId = "AKIDfake";
    public const string Version = "2023-09-01";
    public const string Service = "hunyuan";
    public const int MaxSkewSeconds = 300;
    public const string Note = "以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记";

    private const string ErrorKey = "tencent.error";

    internal static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly HashSet<string> RequestKeys =
    [
        "Model", "Messages", "Stream", "StreamModeration", "TopP", "Temperature", "EnableEnhancement", "Tools", "ToolChoice", "CustomTool",
        "SearchInfo", "Citation", "EnableSpeedSearch", "EnableMultimedia", "EnableDeepSearch", "Seed",
    ];

    private static readonly HashSet<string> MessageKeys = ["Role", "Content", "Contents", "ToolCallId", "ToolCalls"];

    public override bool Serves(HttpRequest request) => IsAction(request, "ChatCompletions");

    internal static bool IsAction(HttpRequest request, string action) =>
        HttpMethods.IsPost(request.Method) && request.Path == "/" && request.Headers["X-TC-Action"] == action;

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => Verify(context, body.Span, state.ApiKey);

    /// <summary>Checks the TC3 signature and the timestamp; on failure the Tencent error is kept for <see cref="WriteTencentErrorAsync"/>.</summary>
    /// <param name="service">the product whose key is derived: <c>hunyuan</c>, or <c>asr</c>/<c>ocr</c> for the speech fake.</param>
    internal static bool Verify(HttpContext context, ReadOnlySpan<byte> body, string secretKey, string service = Service)
    {
        var failure = Check(context, body, secretKey, service);
        if (failure is { } f)
        {
            context.Items[ErrorKey] = f;
        }
        return failure is null;
    }

    private static (string Code, string Message)? Check(HttpContext context, ReadOnlySpan<byte> body, string secretKey, string service)
    {
        const string Scheme = "TC3-HMAC-SHA256 ";
        var invalid = ("AuthFailure.InvalidAuthorization", "The `Authorization` header is missing or does not follow the TC3-HMAC-SHA256 format.");
        var mismatch = ("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.");
        var authorization = Http.Header(context, "Authorization");
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return invalid;
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in authorization[Scheme.Length..].Split(", "))
        {
            var eq = field.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                fields[field[..eq]] = field[(eq + 1)..];
            }
        }
        if (!fields.TryGetValue("Credential", out var credential) || !fields.TryGetValue("SignedHeaders", out var signedHeaders)
            || !fields.TryGetValue("Signature", out var signature))
        {
            return invalid;
        }
        var scope = credential.Split('/');
        if (scope.Length != 4 || scope[3] != "tc3_request")
        {
            return invalid;
        }
        if (scope[0] != SecretId)
        {
            return ("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.");
        }
        if (!long.TryParse(Http.Header(context, "X-TC-Timestamp"), NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return invalid;
        }
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) > MaxSkewSeconds)
        {
            return ("AuthFailure.SignatureExpire", "Signature expired. Timestamp and server time cannot differ by more than five minutes.");
        }
        var date = DateTimeOffset.FromUnixTimeSeconds(timestamp).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var names = signedHeaders.Split(';');
        if (scope[1] != date || scope[2] != service || !names.Contains("content-type") || !names.Contains("host")
            || !names.SequenceEqual(names.Order(StringComparer.Ordinal)))
        {
            return mismatch;
        }
        // The server's side of the scheme: rebuild the canonical request from what actually arrived.
        var headers = new StringBuilder();
        foreach (var name in names)
        {
            var value = context.Request.Headers[name].ToString();
            if (value.Length == 0)
            {
                return mismatch;
            }
            headers.Append(name).Append(':').Append(value.Trim().ToLowerInvariant()).Append('\n');
        }
        var canonical = $"{context.Request.Method}\n{context.Request.Path}\n{context.Request.QueryString.Value?.TrimStart('?')}\n{headers}\n{signedHeaders}\n" +
            Convert.ToHexStringLower(SHA256.HashData(body));
        var toSign = $"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("TC3" + secretKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        key = HMACSHA256.HashData(key, "tc3_request"u8);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)) ? null : mismatch;
    }

    /// <summary>Refuses the request with a Tencent error code and message (written by <see cref="WriteTencentErrorAsync"/>).</summary>
    internal static string Refuse(HttpContext context, string code, string message)
    {
        context.Items[ErrorKey] = (code, message);
        return message;
    }

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        error = "";
        context.Response.Headers["X-TC-RequestId"] = context.Response.Headers["x-request-id"];
        if (Http.Header(context, "X-TC-Version") is var version && version != Version)
        {
            error = Refuse(context, "NoSuchVersion", $"The requested version `{version}` of API `ChatCompletions` does not exist.");
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = Refuse(context, "InvalidParameter", "The request body must be a JSON object.");
                return null;
            }
            foreach (var property in root.EnumerateObject())
            {
                if (!RequestKeys.Contains(property.Name))
                {
                    error = Refuse(context, "UnknownParameter", $"The parameter `{property.Name}` is not recognized.");
                    return null;
                }
            }
            if (!root.TryGetProperty("Model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString()!.Length == 0)
            {
                error = Refuse(context, "MissingParameter", "The request is missing a required parameter `Model`.");
                return null;
            }
            if (!root.TryGetProperty("Messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            {
                error = Refuse(context, "MissingParameter", "The request is missing a required parameter `Messages`.");
                return null;
            }
            if (CheckMessages(messages) is { } messageError)
            {
                error = Refuse(context, "InvalidParameter", messageError);
                return null;
            }
            if (root.TryGetProperty("Temperature", out var t) && (t.ValueKind != JsonValueKind.Number || t.GetDouble() is < 0 or > 2))
            {
                error = Refuse(context, "InvalidParameter", "Temperature must be 2 or less");
                return null;
            }
            if (root.TryGetProperty("TopP", out var p) && (p.ValueKind != JsonValueKind.Number || p.GetDouble() is < 0 or > 1))
            {
                error = Refuse(context, "InvalidParameter", "TopP must be 1 or less");
                return null;
            }
            if (CheckTools(root) is { } toolError)
            {
                error = Refuse(context, "InvalidParameter", toolError);
                return null;
            }
            var stream = root.TryGetProperty("Stream", out var s) && s.ValueKind == JsonValueKind.True;
            return new NativeTurn(model.GetString()!, stream, NativeTurn.CountPrompt(root, "Model"), NativeTurn.Seed(body.Span));
        }
        catch (JsonException)
        {
            error = Refuse(context, "InvalidParameter", "The request body is not valid JSON.");
            return null;
        }
    }

    // [system] user assistant user(tool tool...) assistant ... user|tool, as documented for Messages.
    private static string? CheckMessages(JsonElement messages)
    {
        string? previous = null;
        var previousCalledTools = false;
        var i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object)
            {
                return $"Messages.{i} must be an object";
            }
            foreach (var property in m.EnumerateObject())
            {
                if (!MessageKeys.Contains(property.Name))
                {
                    return $"Messages.{i}.{property.Name} is not a known field";
                }
            }
            var role = m.TryGetProperty("Role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            var hasContent = (m.TryGetProperty("Content", out var c) && c.ValueKind == JsonValueKind.String && c.GetString()!.Length > 0)
                || (m.TryGetProperty("Contents", out var cs) && cs.ValueKind == JsonValueKind.Array && cs.GetArrayLength() > 0);
            var callsTools = m.TryGetProperty("ToolCalls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0;
            var allowed = role switch
            {
                "system" => i == 0,
                "user" => previous is null or "system" or "assistant",
                "assistant" => previous is "user" or "tool",
                "tool" => (previous == "assistant" && previousCalledTools) || previous == "tool",
                _ => false,
            };
            if (!allowed)
            {
                return $"Messages.{i}.Role `{role}` is out of order: system first (optional), then user and assistant alternate, and tool answers an assistant's ToolCalls";
            }
            if (!hasContent && !(role == "assistant" && callsTools))
            {
                return $"Messages.{i}.Content must not be empty";
            }
            if (role == "tool" && !(m.TryGetProperty("ToolCallId", out var callId) && callId.ValueKind == JsonValueKind.String && callId.GetString()!.Length > 0))
            {
                return $"Messages.{i}.ToolCallId is required for a tool message";
            }
            previous = role;
            previousCalledTools = callsTools;
            i++;
        }
        return previous is "user" or "tool" ? null : "the last message must come from user or tool";
    }

    private static string? CheckTools(JsonElement root)
    {
        var names = new List<string>();
        if (root.TryGetProperty("Tools", out var tools))
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                return "Tools must be an array";
            }
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                if (CheckTool(tool, $"Tools.{i++}") is { } error)
                {
                    return error;
                }
                names.Add(tool.GetProperty("Function").GetProperty("Name").GetString()!);
            }
        }
        if (root.TryGetProperty("ToolChoice", out var choice))
        {
            var value = choice.ValueKind == JsonValueKind.String ? choice.GetString() : null;
            if (value is not ("none" or "auto" or "custom"))
            {
                return "ToolChoice must be none, auto or custom";
            }
            if (value == "custom")
            {
                if (!root.TryGetProperty("CustomTool", out var custom))
                {
                    return "CustomTool is required when ToolChoice is custom";
                }
                return CheckTool(custom, "CustomTool");
            }
        }
        return null;
    }

    private static string? CheckTool(JsonElement tool, string path)
    {
        if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("Type", out var type) || type.GetString() != "function"
            || !tool.TryGetProperty("Function", out var function) || function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("Name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return $"{path} must be {{Type:\"function\", Function:{{Name, Description, Parameters}}}}";
        }
        if (function.TryGetProperty("Parameters", out var parameters))
        {
            // The schema travels as a JSON text, not as an object.
            if (parameters.ValueKind != JsonValueKind.String)
            {
                return $"{path}.Function.Parameters must be a string";
            }
            try
            {
                using var schema = JsonDocument.Parse(parameters.GetString()!);
            }
            catch (JsonException)
            {
                return $"{path}.Function.Parameters is not valid JSON";
            }
        }
        return null;
    }

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        WriteTencentErrorAsync(context, kind, message);

    /// <summary>Tencent's way: HTTP 200, <c>application/json</c>, the error inside <c>Response</c>.</summary>
    internal static async Task WriteTencentErrorAsync(HttpContext context, FakeErrorKind kind, string message)
    {
        var kept = context.Items[ErrorKey] as (string Code, string Message)?;
        var (code, text) = kind switch
        {
            FakeErrorKind.Auth => kept ?? ("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."),
            FakeErrorKind.RateLimit => ("RequestLimitExceeded", "请求的次数超过了频率限制。"),
            FakeErrorKind.Quota => ("FailedOperation.ResourcePackExhausted", "资源包余量已用尽，请购买资源包或开通后付费。"),
            FakeErrorKind.ContentFilter => ("OperationDenied.TextIllegalDetected", "文本包含违法违规信息，审核不通过。"),
            FakeErrorKind.Overloaded => ("FailedOperation.EngineServerLimitExceeded", "引擎层请求超过限额；请稍后重试。"),
            FakeErrorKind.Server => ("InternalError", "内部错误。"),
            _ => kept ?? ("InvalidParameter", message),
        };
        var requestId = context.Response.Headers["x-request-id"].ToString();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.Headers["X-TC-RequestId"] = requestId;
        await context.Response.WriteAsync(new JsonObject
        {
            ["Response"] = new JsonObject
            {
                ["Error"] = new JsonObject { ["Code"] = code, ["Message"] = text },
                ["RequestId"] = requestId,
            },
        }.ToJsonString(Relaxed));
    }

    private static string ToolId(string id, int index) => $"call_{id}_{index}";

    private static JsonObject Usage(NativeReply reply, int completion) => new()
    {
        ["PromptTokens"] = reply.Turn.PromptTokens,
        ["CompletionTokens"] = completion,
        ["TotalTokens"] = reply.Turn.PromptTokens + completion,
    };

    protected override byte[] Completion(string id, NativeReply reply)
    {
        var message = new JsonObject { ["Role"] = "assistant", ["Content"] = reply.Tools ? "" : reply.Text };
        if (reply.Tools)
        {
            var calls = new JsonArray();
            for (var i = 0; i < NativeReply.ToolCalls.Count; i++)
            {
                var (name, arguments) = NativeReply.ToolCalls[i];
                calls.Add(new JsonObject
                {
                    ["Id"] = ToolId(id, i),
                    ["Type"] = "function",
                    ["Function"] = new JsonObject { ["Name"] = name, ["Arguments"] = arguments },
                });
            }
            message["ToolCalls"] = calls;
        }
        return Encoding.UTF8.GetBytes(new JsonObject
        {
            ["Response"] = new JsonObject
            {
                ["RequestId"] = id,
                ["Note"] = Note,
                ["Choices"] = new JsonArray(new JsonObject { ["FinishReason"] = reply.Tools ? "tool_calls" : "stop", ["Message"] = message }),
                ["Created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["Id"] = id,
                ["Usage"] = Usage(reply, reply.CompletionTokens),
            },
        }.ToJsonString(Relaxed));
    }

    protected override string StreamContentType => "text/event-stream";

    protected override byte[] StreamStart(string id, NativeReply reply) => [];

    private static byte[] Chunk(string id, NativeReply reply, JsonObject delta, string finish, int completion) => Sse(null, new JsonObject
    {
        ["Note"] = Note,
        ["Choices"] = new JsonArray(new JsonObject { ["FinishReason"] = finish, ["Delta"] = delta }),
        ["Created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["Id"] = id,
        ["Usage"] = Usage(reply, completion),
    }.ToJsonString(Relaxed));

    protected override byte[] TextFrame(string id, NativeReply reply, int index) =>
        Chunk(id, reply, new JsonObject { ["Role"] = "assistant", ["Content"] = reply.Words[index] }, "", index + 1);

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call)
    {
        var (name, _) = NativeReply.ToolCalls[call];
        var completion = Enumerable.Range(0, call).Sum(c => NativeReply.NameTokens(c) + NativeReply.ArgumentPieces(c).Count) + NativeReply.NameTokens(call);
        // As documented: the first fragment names the call, the next ones carry its Id and pieces of the arguments.
        yield return (Chunk(id, reply, ToolDelta(id, call, name, ""), "", completion), NativeReply.NameTokens(call));
        foreach (var piece in NativeReply.ArgumentPieces(call))
        {
            yield return (Chunk(id, reply, ToolDelta(id, call, "", piece), "", ++completion), 1);
        }
    }

    private static JsonObject ToolDelta(string id, int call, string name, string arguments) => new()
    {
        ["Role"] = "assistant",
        ["Content"] = "",
        ["ToolCalls"] = new JsonArray(new JsonObject
        {
            ["Id"] = ToolId(id, call),
            ["Type"] = "function",
            ["Function"] = new JsonObject { ["Name"] = name, ["Arguments"] = arguments },
        }),
    };

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens) =>
        Chunk(id, reply, new JsonObject { ["Role"] = "assistant", ["Content"] = "" }, reply.Tools ? "tool_calls" : "stop", completionTokens);

    protected override byte[] StreamError(string id) => Sse(null, new JsonObject
    {
        ["Note"] = Note,
        ["Choices"] = new JsonArray(),
        ["Created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["Id"] = id,
        ["ErrorMsg"] = new JsonObject { ["Msg"] = "服务内部异常", ["Code"] = 4000 },
    }.ToJsonString(Relaxed));
}

/// <summary>
/// Hunyuan <c>GetEmbedding</c> (<c>X-TC-Action: GetEmbedding</c>, same signature and errors as chat): <c>{Input}</c> or
/// <c>{InputList:[…]}</c> → 1024-dimension vectors in <c>Response.Data[{Embedding, Index, Object}]</c>. The action takes
/// no model, so it bills as <see cref="Model"/> and model options do not apply.
/// </summary>
internal sealed class HunyuanEmbeddingsFake : NativeEmbeddings
{
    public const string Model = "hunyuan-embedding";
    public const int Dimensions = 1024;

    public override bool Serves(HttpRequest request) => HunyuanFake.IsAction(request, "GetEmbedding");

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => HunyuanFake.Verify(context, body.Span, state.ApiKey);

    protected override EmbeddingCall? ParseEmbeddings(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var texts = new List<string>();
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "Input" when property.Value.ValueKind == JsonValueKind.String:
                        texts.Add(property.Value.GetString()!);
                        break;
                    case "InputList" when property.Value.ValueKind == JsonValueKind.Array && property.Value.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String):
                        texts.AddRange(property.Value.EnumerateArray().Select(i => i.GetString()!));
                        break;
                    case "Input" or "InputList":
                        error = HunyuanFake.Refuse(context, "InvalidParameter", $"`{property.Name}` must be a string (Input) or an array of strings (InputList).");
                        return null;
                    default:
                        error = HunyuanFake.Refuse(context, "UnknownParameter", $"The parameter `{property.Name}` is not recognized.");
                        return null;
                }
            }
            if (texts.Count == 0)
            {
                error = HunyuanFake.Refuse(context, "MissingParameter", "The request is missing a required parameter `Input` or `InputList`.");
                return null;
            }
            return new EmbeddingCall(Model, texts, Dimensions);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            error = HunyuanFake.Refuse(context, "InvalidParameter", "The request body is not a JSON object.");
            return null;
        }
    }

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        HunyuanFake.WriteTencentErrorAsync(context, kind, message);

    protected override byte[] EmbeddingsBody(string id, EmbeddingCall call, IReadOnlyList<float[]> vectors, int? tokens)
    {
        var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output, Json.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("Response");
            json.WriteStartArray("Data");
            for (var i = 0; i < vectors.Count; i++)
            {
                json.WriteStartObject();
                json.WriteStartArray("Embedding");
                foreach (var value in vectors[i])
                {
                    json.WriteNumberValue(value);
                }
                json.WriteEndArray();
                json.WriteNumber("Index", i);
                json.WriteString("Object", "embedding");
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (tokens is { } t)
            {
                json.WriteStartObject("Usage");
                json.WriteNumber("PromptTokens", t);
                json.WriteNumber("TotalTokens", t);
                json.WriteEndObject();
            }
            json.WriteString("RequestId", id);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return output.ToArray();
    }
}
