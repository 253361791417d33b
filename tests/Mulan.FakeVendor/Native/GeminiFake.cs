using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Google Gemini API: <c>POST /v1beta/models/{model}:generateContent</c> and <c>:streamGenerateContent?alt=sse</c>
/// with <c>x-goog-api-key</c> (or <c>?key=</c>); <c>:batchEmbedContents</c> is served by <see cref="GeminiEmbeddingsFake"/>.
/// Streams are SSE events that each hold a whole <c>GenerateContentResponse</c>, with no terminator; the last one
/// carries <c>finishReason</c>. Errors are <c>{"error":{code,message,status,details}}</c>; a blocked prompt is an
/// HTTP 200 with <c>promptFeedback.blockReason</c>.
/// </summary>
internal sealed class GeminiFake : NativeProtocol
{
    public const string Prefix = "/v1beta/models/";

    // Request fields the REST layer knows (camelCase and snake_case); any other name is refused, as Gemini does.
    private static readonly HashSet<string> RequestFields = new(StringComparer.Ordinal)
    {
        "contents", "systemInstruction", "system_instruction", "generationConfig", "generation_config", "tools", "toolConfig", "tool_config",
        "safetySettings", "safety_settings", "cachedContent", "cached_content", "labels",
    };

    private static readonly HashSet<string> GenerationFields = new(StringComparer.Ordinal)
    {
        "temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "candidateCount", "responseMimeType", "responseSchema",
        "responseJsonSchema", "seed", "presencePenalty", "frequencyPenalty", "thinkingConfig", "responseLogprobs", "logprobs",
    };

    // Schema keywords of Gemini's OpenAPI subset; JSON Schema extras such as additionalProperties are refused.
    private static readonly HashSet<string> SchemaFields = new(StringComparer.Ordinal)
    {
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties",
        "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
    };

    public override bool Serves(HttpRequest request) => Serves(request, "generateContent", "streamGenerateContent");

    /// <summary>A POST to <c>/v1beta/models/{model}:{method}</c> with one of these methods.</summary>
    public static bool Serves(HttpRequest request, params string[] methods) =>
        HttpMethods.IsPost(request.Method) && request.Path.Value is { } path && path.StartsWith(Prefix, StringComparison.Ordinal)
        && methods.Contains(Split(path).Method);

    /// <summary>The model and the method of <c>/v1beta/models/{model}:{method}</c>.</summary>
    public static (string Model, string Method) Split(string path)
    {
        var rest = path[Prefix.Length..];
        var colon = rest.LastIndexOf(':');
        return colon <= 0 ? (rest, "") : (rest[..colon], rest[(colon + 1)..]);
    }

    public static bool Authorized(HttpContext context, VendorState state) =>
        (Http.Header(context, "x-goog-api-key") ?? context.Request.Query["key"].ToString()) == state.ApiKey;

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => Authorized(context, state);

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        var (model, method) = Split(context.Request.Path.Value!);
        var stream = method == "streamGenerateContent";
        if (stream && context.Request.Query["alt"] != "sse")
        {
            error = "this fake streams only as server-sent events: add ?alt=sse";
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            error = Validate(root);
            return error.Length > 0 ? null : new NativeTurn(model, stream, NativeTurn.CountPrompt(root), NativeTurn.Seed(body.Span));
        }
        catch (JsonException e)
        {
            error = "Invalid JSON payload received. " + e.Message;
            return null;
        }
    }

    private static string Validate(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "Invalid JSON payload received. Expected an object.";
        }
        foreach (var field in root.EnumerateObject())
        {
            if (!RequestFields.Contains(field.Name))
            {
                return $"Invalid JSON payload received. Unknown name \"{field.Name}\": Cannot find field.";
            }
        }
        if (!root.TryGetProperty("contents", out var contents) || contents.ValueKind != JsonValueKind.Array || contents.GetArrayLength() == 0)
        {
            return "* GenerateContentRequest.contents: contents is not specified";
        }
        var pendingCalls = 0;
        var i = 0;
        foreach (var content in contents.EnumerateArray())
        {
            var role = content.TryGetProperty("role", out var r) ? r.GetString() : "user";
            if (role is not ("user" or "model"))
            {
                return $"Please use a valid role: user, model. (contents[{i}].role was \"{role}\")";
            }
            if (!content.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array || parts.GetArrayLength() == 0)
            {
                return $"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.";
            }
            int calls = 0, responses = 0;
            foreach (var part in parts.EnumerateArray())
            {
                if (part.TryGetProperty("text", out var text) && (text.ValueKind != JsonValueKind.String || text.GetString() is ""))
                {
                    return "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again.";
                }
                if (part.TryGetProperty("functionCall", out var call))
                {
                    if (call.TryGetProperty("args", out var args) && args.ValueKind != JsonValueKind.Object)
                    {
                        return $"Invalid JSON payload received. Unknown name \"args\" at 'contents[{i}].parts[0].function_call': Proto field is not repeating, cannot start list.";
                    }
                    calls++;
                }
                if (part.TryGetProperty("functionResponse", out var response))
                {
                    if (!response.TryGetProperty("name", out var name) || name.GetString() is not { Length: > 0 }
                        || !response.TryGetProperty("response", out var value) || value.ValueKind != JsonValueKind.Object)
                    {
                        return $"* GenerateContentRequest.contents[{i}].parts: function_response needs a name and a response object";
                    }
                    responses++;
                }
                if (part.TryGetProperty("inlineData", out var inline))
                {
                    var data = inline.TryGetProperty("data", out var d) ? d.GetString() : null;
                    if (!inline.TryGetProperty("mimeType", out _) || data is null || !Convert.TryFromBase64String(data, new byte[data.Length], out _))
                    {
                        return $"Invalid value at 'contents[{i}].parts[0].inline_data.data' (TYPE_BYTES), Base64 decoding failed";
                    }
                }
            }
            if (pendingCalls > 0 && responses != pendingCalls)
            {
                return "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.";
            }
            pendingCalls = role == "model" ? calls : 0;
            i++;
        }
        if (root.TryGetProperty("generationConfig", out var config))
        {
            foreach (var field in config.EnumerateObject())
            {
                if (!GenerationFields.Contains(field.Name))
                {
                    return $"Invalid JSON payload received. Unknown name \"{field.Name}\" at 'generation_config': Cannot find field.";
                }
            }
        }
        if (root.TryGetProperty("tools", out var tools))
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (!tool.TryGetProperty("functionDeclarations", out var list))
                {
                    continue;
                }
                foreach (var declaration in list.EnumerateArray())
                {
                    if (declaration.TryGetProperty("parameters", out var parameters) && SchemaError(parameters, "parameters") is { } schemaError)
                    {
                        return schemaError;
                    }
                }
            }
        }
        return "";
    }

    private static string? SchemaError(JsonElement schema, string at)
    {
        foreach (var field in schema.EnumerateObject())
        {
            if (!SchemaFields.Contains(field.Name))
            {
                return $"Invalid JSON payload received. Unknown name \"{field.Name}\" at 'tools[0].function_declarations[0].{at}': Cannot find field.";
            }
        }
        if (schema.TryGetProperty("type", out var type) && type.GetString() is "object" or "OBJECT"
            && (!schema.TryGetProperty("properties", out var properties) || !properties.EnumerateObject().Any()))
        {
            return $"* GenerateContentRequest.tools[0].function_declarations[0].{at}.properties: should be non-empty for OBJECT type";
        }
        if (schema.TryGetProperty("properties", out var props))
        {
            foreach (var property in props.EnumerateObject())
            {
                if (SchemaError(property.Value, $"{at}.properties[{property.Name}].value") is { } inner)
                {
                    return inner;
                }
            }
        }
        return schema.TryGetProperty("items", out var items) ? SchemaError(items, at + ".items") : null;
    }

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds)
    {
        if (kind == FakeErrorKind.ContentFilter)
        {
            return WriteBlockedAsync(context);
        }
        var (model, method) = Split(context.Request.Path.Value!);
        return WriteError(context, kind, status, message, retryAfterSeconds, model, method);
    }

    /// <summary>Gemini's error body for a failure class, as its REST front end sends it.</summary>
    public static Task WriteError(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds, string model, string method)
    {
        var (code, grpc, text, details) = kind switch
        {
            FakeErrorKind.Auth when status == 403 || Http.Header(context, "x-goog-api-key") is null =>
                (403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", new JsonArray()),
            FakeErrorKind.Auth => (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", new JsonArray(new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo",
                ["reason"] = "API_KEY_INVALID",
                ["domain"] = "googleapis.com",
                ["metadata"] = new JsonObject { ["service"] = "generativelanguage.googleapis.com" },
            })),
            // Gemini words a per-minute limit as "exceeded your current quota" too; what tells them apart is the
            // per-minute quota id and the RetryInfo.
            FakeErrorKind.RateLimit => (429, "RESOURCE_EXHAUSTED", QuotaMessage, new JsonArray(
                QuotaFailure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", model),
                Help(),
                new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.RetryInfo", ["retryDelay"] = Seconds(retryAfterSeconds ?? 1) })),
            FakeErrorKind.Quota => (429, "RESOURCE_EXHAUSTED", QuotaMessage, new JsonArray(
                QuotaFailure("GenerateRequestsPerDayPerProjectPerModel-FreeTier", model), Help())),
            FakeErrorKind.Overloaded => (503, "UNAVAILABLE", "The model is overloaded. Please try again later.", new JsonArray()),
            FakeErrorKind.Server when status == 504 => (504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.", new JsonArray()),
            FakeErrorKind.Server => (500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", new JsonArray()),
            _ when status == 404 => (404, "NOT_FOUND", $"models/{model} is not found for API version v1beta, or is not supported for {method}. Call ListModels to see the list of available models and their supported methods.", new JsonArray()),
            _ => (400, "INVALID_ARGUMENT", message, new JsonArray()),
        };
        var error = new JsonObject { ["code"] = code, ["message"] = text, ["status"] = grpc };
        if (details.Count > 0)
        {
            error["details"] = details;
        }
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json; charset=UTF-8";
        return context.Response.WriteAsync(new JsonObject { ["error"] = error }.ToJsonString(), CancellationToken.None);
    }

    private const string QuotaMessage = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.";

    private static JsonObject QuotaFailure(string quotaId, string model) => new()
    {
        ["@type"] = "type.googleapis.com/google.rpc.QuotaFailure",
        ["violations"] = new JsonArray(new JsonObject
        {
            ["quotaMetric"] = "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            ["quotaId"] = quotaId,
            ["quotaDimensions"] = new JsonObject { ["location"] = "global", ["model"] = model },
            ["quotaValue"] = "10",
        }),
    };

    private static JsonObject Help() => new()
    {
        ["@type"] = "type.googleapis.com/google.rpc.Help",
        ["links"] = new JsonArray(new JsonObject { ["description"] = "Learn more about Gemini API quotas", ["url"] = "https://ai.google.dev/gemini-api/docs/rate-limits" }),
    };

    /// <summary>A blocked prompt: HTTP 200, no candidates, <c>promptFeedback.blockReason</c> (one SSE event on a stream).</summary>
    private static async Task WriteBlockedAsync(HttpContext context)
    {
        var (model, method) = Split(context.Request.Path.Value!);
        var blocked = new JsonObject
        {
            ["promptFeedback"] = new JsonObject
            {
                ["blockReason"] = "SAFETY",
                ["safetyRatings"] = new JsonArray(
                    new JsonObject { ["category"] = "HARM_CATEGORY_SEXUALLY_EXPLICIT", ["probability"] = "NEGLIGIBLE" },
                    new JsonObject { ["category"] = "HARM_CATEGORY_HATE_SPEECH", ["probability"] = "HIGH" },
                    new JsonObject { ["category"] = "HARM_CATEGORY_HARASSMENT", ["probability"] = "NEGLIGIBLE" },
                    new JsonObject { ["category"] = "HARM_CATEGORY_DANGEROUS_CONTENT", ["probability"] = "NEGLIGIBLE" }),
            },
            ["modelVersion"] = BaseModel(model),
        }.ToJsonString();
        context.Response.StatusCode = 200;
        if (method == "streamGenerateContent")
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.WriteAsync(Event(blocked), CancellationToken.None);
            return;
        }
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(blocked, CancellationToken.None);
    }

    private static string BaseModel(string model) => model.Split('+')[0];

    private static bool NoUsage(NativeReply reply) => ModelSpec.TryParse(reply.Turn.Model, out var spec, out _) && spec.NoUsage;

    private static JsonObject Response(string id, NativeReply reply, JsonArray parts, string? finishReason, int candidatesTokens)
    {
        var candidate = new JsonObject { ["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" } };
        if (finishReason is not null)
        {
            candidate["finishReason"] = finishReason;
        }
        candidate["index"] = 0;
        var response = new JsonObject { ["candidates"] = new JsonArray(candidate) };
        if (!NoUsage(reply))
        {
            var prompt = reply.Turn.PromptTokens;
            var usage = new JsonObject { ["promptTokenCount"] = prompt };
            if (candidatesTokens > 0)
            {
                usage["candidatesTokenCount"] = candidatesTokens;
            }
            usage["totalTokenCount"] = prompt + candidatesTokens;
            usage["promptTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = prompt });
            response["usageMetadata"] = usage;
        }
        response["modelVersion"] = BaseModel(reply.Turn.Model);
        response["responseId"] = id;
        return response;
    }

    private static JsonObject FunctionCall(int index)
    {
        var (name, arguments) = NativeReply.ToolCalls[index];
        return new JsonObject { ["functionCall"] = new JsonObject { ["name"] = name, ["args"] = JsonNode.Parse(arguments) } };
    }

    protected override byte[] Completion(string id, NativeReply reply)
    {
        var parts = reply.Tools
            ? new JsonArray([.. Enumerable.Range(0, NativeReply.ToolCalls.Count).Select(i => (JsonNode)FunctionCall(i))])
            : new JsonArray(new JsonObject { ["text"] = reply.Text });
        return JsonSerializer.SerializeToUtf8Bytes(Response(id, reply, parts, "STOP", reply.CompletionTokens));
    }

    protected override string StreamContentType => "text/event-stream";

    protected override byte[] StreamStart(string id, NativeReply reply) => [];

    protected override byte[] TextFrame(string id, NativeReply reply, int index) =>
        Event(Response(id, reply, new JsonArray(new JsonObject { ["text"] = reply.Words[index] }), null, index + 1).ToJsonString());

    /// <summary>One event per call: Gemini sends a function call whole, its arguments an object.</summary>
    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call)
    {
        var tokens = CallTokens(call);
        var before = Enumerable.Range(0, call).Sum(CallTokens);
        yield return (Event(Response(id, reply, new JsonArray(FunctionCall(call)), null, before + tokens).ToJsonString()), tokens);
    }

    private static int CallTokens(int call) => NativeReply.NameTokens(call) + NativeReply.ArgumentPieces(call).Count;

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens) =>
        Event(Response(id, reply, new JsonArray(new JsonObject { ["text"] = "" }), "STOP", completionTokens).ToJsonString());

    protected override byte[] StreamError(string id) =>
        Event("""{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}""");

    /// <summary>Gemini ends its SSE events with CRLF pairs.</summary>
    public static byte[] Event(string json) => Encoding.UTF8.GetBytes($"data: {json}\r\n\r\n");

    internal static string Seconds(int value) => value.ToString(CultureInfo.InvariantCulture) + "s";
}
