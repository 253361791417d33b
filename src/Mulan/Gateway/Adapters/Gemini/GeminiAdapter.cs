using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters.Gemini;

/// <summary>
/// Google Gemini API (<c>POST {baseUrl}/models/{model}:generateContent</c>, <c>:streamGenerateContent?alt=sse</c>,
/// <c>:batchEmbedContents</c>; key in <c>x-goog-api-key</c>). System messages become <c>systemInstruction</c>,
/// tool calls <c>functionCall</c> parts and tool results <c>functionResponse</c> parts. A blocked prompt is an
/// HTTP 200 with <c>promptFeedback.blockReason</c>, and a stream has no terminator: it ends with its body.
/// </summary>
public sealed class GeminiAdapter : IVendorAdapter
{
    public WireProtocol Protocol => WireProtocol.Gemini;

    public async Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct)
    {
        var embeddings = call.Request.Endpoint == GatewayEndpoint.Embeddings;
        var body = embeddings
            ? TranslateEmbeddingsRequest(call.Request.Body, call.Deployment.VendorModel)
            : TranslateRequest(call.Request.Body);
        var method = embeddings ? "batchEmbedContents" : call.Request.Stream ? "streamGenerateContent?alt=sse" : "generateContent";
        var provider = call.Deployment.Provider;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"{provider.BaseUrl.AbsoluteUri.TrimEnd('/')}/{ModelPath(call.Deployment.VendorModel)}:{method}"))
        {
            Content = VendorHttp.JsonContent(body),
        };
        request.Headers.TryAddWithoutValidation("x-goog-api-key", provider.ApiKey ?? "");
        var response = await VendorHttp.SendAsync(call, request, ct);
        return await VendorHttp.AnswerAsync(call, response, MapError,
            call.Request.Stream && !embeddings ? body => TranslateStream(body, call.Request.Model, ct) : null,
            answer => embeddings ? TranslateEmbeddings(answer, call.Request.Body, call.Request.Model) : TranslateResponse(answer, call.Request.Model), ct);
    }

    /// <summary>The model's resource name in the URL: <c>models/x</c>, or a full name such as <c>tunedModels/x</c> as given.</summary>
    public static string ModelPath(string vendorModel)
    {
        var name = vendorModel.Contains('/', StringComparison.Ordinal) ? vendorModel : "models/" + vendorModel;
        return string.Join('/', name.Split('/').Select(Uri.EscapeDataString));
    }

    private static string ResourceName(string vendorModel) =>
        vendorModel.Contains('/', StringComparison.Ordinal) ? vendorModel : "models/" + vendorModel;

    /// <summary>OpenAI chat request → Gemini <c>GenerateContentRequest</c> (the model travels in the URL).</summary>
    public static JsonObject TranslateRequest(JsonObject openAI)
    {
        var system = new List<string>();
        var contents = new JsonArray();
        // Gemini's functionResponse is matched by function name, which an OpenAI tool message does not carry.
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in openAI["messages"]!.AsArray())
        {
            var m = node!.AsObject();
            switch (OpenAIRequest.String(m["role"]))
            {
                case "system" or "developer":
                    system.Add(OpenAIRequest.Text(m["content"]));
                    break;
                case "user":
                    Append(contents, "user", UserParts(m["content"]));
                    break;
                case "assistant":
                    var parts = new JsonArray();
                    if (OpenAIRequest.Text(m["content"]) is { Length: > 0 } said)
                    {
                        parts.Add(new JsonObject { ["text"] = said });
                    }
                    foreach (var (id, name, arguments) in OpenAIRequest.ToolCalls(m))
                    {
                        callNames[id] = name;
                        parts.Add(new JsonObject { ["functionCall"] = new JsonObject { ["name"] = name, ["args"] = OpenAIRequest.Arguments(arguments) } });
                    }
                    Append(contents, "model", parts);
                    break;
                case "tool":
                    var callId = OpenAIRequest.String(m["tool_call_id"]) ?? "";
                    var function = callNames.GetValueOrDefault(callId) ?? OpenAIRequest.String(m["name"])
                        ?? throw VendorError.BadRequest($"tool message '{callId}' answers no earlier assistant tool call, so Gemini cannot be told which function it belongs to");
                    Append(contents, "user", new JsonArray(new JsonObject
                    {
                        ["functionResponse"] = new JsonObject { ["name"] = function, ["response"] = ToolResponse(OpenAIRequest.Text(m["content"])) },
                    }));
                    break;
                default:
                    throw VendorError.BadRequest($"message role '{OpenAIRequest.String(m["role"])}' cannot be sent to Gemini");
            }
        }
        var body = new JsonObject { ["contents"] = contents };
        if (system.Count > 0)
        {
            body["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = string.Join("\n\n", system) }) };
        }
        body["generationConfig"] = GenerationConfig(openAI);
        var declarations = new JsonArray();
        foreach (var (name, description, parameters) in OpenAIRequest.Tools(openAI))
        {
            var declaration = new JsonObject { ["name"] = name };
            if (description is not null)
            {
                declaration["description"] = description;
            }
            if (Schema(parameters) is { } schema)
            {
                declaration["parameters"] = schema;
            }
            declarations.Add(declaration);
        }
        if (declarations.Count > 0)
        {
            body["tools"] = new JsonArray(new JsonObject { ["functionDeclarations"] = declarations });
            if (ToolConfig(openAI["tool_choice"]) is { } config)
            {
                body["toolConfig"] = new JsonObject { ["functionCallingConfig"] = config };
            }
        }
        return body;
    }

    private static JsonObject GenerationConfig(JsonObject openAI)
    {
        var config = new JsonObject();
        if (OpenAIRequest.Number(openAI["temperature"]) is { } temperature)
        {
            config["temperature"] = temperature;
        }
        if (OpenAIRequest.Number(openAI["top_p"]) is { } topP)
        {
            config["topP"] = topP;
        }
        if (OpenAIRequest.MaxTokens(openAI) is { } max)
        {
            config["maxOutputTokens"] = max;
        }
        if (OpenAIRequest.Stop(openAI) is { Count: > 0 } stop)
        {
            config["stopSequences"] = new JsonArray([.. stop.Select(s => (JsonNode)s)]);
        }
        if (OpenAIRequest.Number(openAI["seed"]) is { } seed)
        {
            config["seed"] = (long)seed;
        }
        if (OpenAIRequest.Number(openAI["presence_penalty"]) is { } presence)
        {
            config["presencePenalty"] = presence;
        }
        if (OpenAIRequest.Number(openAI["frequency_penalty"]) is { } frequency)
        {
            config["frequencyPenalty"] = frequency;
        }
        // One answer per request: the translation back reads candidates[0] only.
        config["candidateCount"] = 1;
        switch (OpenAIRequest.String(openAI["response_format"]?["type"]))
        {
            case "json_object":
                config["responseMimeType"] = "application/json";
                break;
            case "json_schema":
                config["responseMimeType"] = "application/json";
                if (openAI["response_format"]?["json_schema"]?["schema"] is JsonObject schema)
                {
                    config["responseJsonSchema"] = schema.DeepClone();
                }
                break;
        }
        return config;
    }

    /// <summary>
    /// Gemini's <c>parameters</c> is an OpenAPI subset: it refuses <c>$schema</c> and <c>additionalProperties</c>
    /// (which OpenAI strict tools carry) and an object with no properties, so those are dropped.
    /// </summary>
    private static JsonNode? Schema(JsonNode? parameters)
    {
        if (parameters is not JsonObject schema)
        {
            return null;
        }
        Strip(schema);
        var noProperties = schema["properties"] is null or JsonObject { Count: 0 };
        return OpenAIRequest.String(schema["type"]) == "object" && noProperties ? null : schema;

        // Keywords are removed from schemas only, never from the names of properties.
        static void Strip(JsonNode? node)
        {
            if (node is not JsonObject schema)
            {
                return;
            }
            schema.Remove("$schema");
            schema.Remove("additionalProperties");
            if (schema["properties"] is JsonObject properties)
            {
                foreach (var (_, property) in properties)
                {
                    Strip(property);
                }
            }
            Strip(schema["items"]);
            foreach (var key in (string[])["anyOf", "oneOf", "allOf"])
            {
                foreach (var alternative in schema[key] as JsonArray ?? [])
                {
                    Strip(alternative);
                }
            }
        }
    }

    private static JsonObject? ToolConfig(JsonNode? choice) => choice switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s switch
        {
            "auto" => new JsonObject { ["mode"] = "AUTO" },
            "required" => new JsonObject { ["mode"] = "ANY" },
            "none" => new JsonObject { ["mode"] = "NONE" },
            _ => null,
        },
        JsonObject o when o["function"] is JsonObject f && OpenAIRequest.String(f["name"]) is { } name =>
            new JsonObject { ["mode"] = "ANY", ["allowedFunctionNames"] = new JsonArray(name) },
        _ => null,
    };

    /// <summary>A tool result as the <c>response</c> object Gemini wants: a JSON object as is, anything else under <c>output</c>.</summary>
    private static JsonObject ToolResponse(string text)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject parsed)
            {
                return parsed;
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Plain text: wrapped below.
        }
        return new JsonObject { ["output"] = text };
    }

    private static JsonArray UserParts(JsonNode? content)
    {
        if (content is not JsonArray items)
        {
            return OpenAIRequest.Text(content) is { Length: > 0 } text ? new JsonArray(new JsonObject { ["text"] = text }) : [];
        }
        var parts = new JsonArray();
        foreach (var part in items.OfType<JsonObject>())
        {
            switch (OpenAIRequest.String(part["type"]))
            {
                case "text":
                    if (OpenAIRequest.String(part["text"]) is { Length: > 0 } text)
                    {
                        parts.Add(new JsonObject { ["text"] = text });
                    }
                    break;
                case "image_url":
                    var url = OpenAIRequest.String(part["image_url"]?["url"]) ?? "";
                    if (!url.StartsWith("data:", StringComparison.Ordinal) || url.IndexOf(";base64,", StringComparison.Ordinal) is not (> 5 and var at))
                    {
                        throw VendorError.BadRequest("Gemini takes images inline: send them as data: URLs (base64)");
                    }
                    parts.Add(new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = url[5..at], ["data"] = url[(at + 8)..] } });
                    break;
                default:
                    throw VendorError.BadRequest($"content part '{OpenAIRequest.String(part["type"])}' cannot be sent to Gemini");
            }
        }
        return parts;
    }

    // Gemini refuses empty parts, and wants all function responses of one call turn in the next user turn:
    // empty turns are dropped and consecutive turns of one role merged.
    private static void Append(JsonArray contents, string role, JsonArray parts)
    {
        if (parts.Count == 0)
        {
            return;
        }
        OpenAIRequest.AppendTurn(contents, role, "parts", parts);
    }

    /// <summary>Gemini <c>GenerateContentResponse</c> → OpenAI <c>chat.completion</c>.</summary>
    /// <exception cref="VendorError">an error body, or a prompt blocked before any candidate.</exception>
    public static JsonObject TranslateResponse(JsonObject response, string model)
    {
        ThrowIfFailed(response);
        string? text = null;
        var calls = new JsonArray();
        var candidate = response["candidates"]?[0];
        foreach (var part in candidate?["content"]?["parts"] as JsonArray ?? [])
        {
            if (part?["thought"] is JsonValue thought && thought.TryGetValue<bool>(out var isThought) && isThought)
            {
                continue;
            }
            if (OpenAIRequest.String(part?["text"]) is { } piece)
            {
                text += piece;
            }
            else if (part?["functionCall"] is JsonObject functionCall)
            {
                calls.Add(OpenAIShapes.ToolCall(OpenAIRequest.String(functionCall["id"]) ?? CallId(calls.Count),
                    OpenAIRequest.String(functionCall["name"]) ?? "", functionCall["args"]?.ToJsonString() ?? "{}"));
            }
        }
        var finish = FinishReason(OpenAIRequest.String(candidate?["finishReason"]), calls.Count > 0);
        var completion = OpenAIShapes.Completion(OpenAIRequest.String(response["responseId"]) ?? "", model, text, calls, finish, new JsonObject());
        if (Usage(response["usageMetadata"]) is { } usage)
        {
            completion["usage"] = OpenAIShapes.Usage(usage.Prompt, usage.Completion, usage.Cached);
        }
        else
        {
            completion.Remove("usage"); // none reported: the gateway estimates
        }
        return completion;
    }

    /// <summary>Gemini generates no call ids; these are stable within one answer.</summary>
    public static string CallId(int index) => "call_" + index.ToString(CultureInfo.InvariantCulture);

    private static void ThrowIfFailed(JsonObject response)
    {
        if (response["error"] is JsonObject)
        {
            throw MapError((int)(OpenAIRequest.Number(response["error"]?["code"]) ?? 500), response, null);
        }
        if (OpenAIRequest.String(response["promptFeedback"]?["blockReason"]) is { } reason && response["candidates"] is not JsonArray { Count: > 0 })
        {
            throw VendorError.Filtered($"Gemini blocked the prompt (blockReason {reason})");
        }
    }

    /// <summary>OpenAI counts thinking as output; Gemini reports it apart from the candidates.</summary>
    private static (long Prompt, long Completion, long Cached)? Usage(JsonNode? metadata)
    {
        if (metadata is not JsonObject m)
        {
            return null;
        }
        long Count(string name) => (long)(OpenAIRequest.Number(m[name]) ?? 0);
        return (Count("promptTokenCount") + Count("toolUsePromptTokenCount"), Count("candidatesTokenCount") + Count("thoughtsTokenCount"), Count("cachedContentTokenCount"));
    }

    public static string FinishReason(string? finishReason, bool calledFunctions) => finishReason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" => "content_filter",
        _ when calledFunctions => "tool_calls",
        _ => "stop",
    };

    /// <summary>
    /// Gemini SSE (each event a whole <c>GenerateContentResponse</c>) → OpenAI chunks. There is no terminator:
    /// the stream is complete when its body ends after an event that carried a <c>finishReason</c>.
    /// </summary>
    public static async IAsyncEnumerable<OpenAIChunk> TranslateStream(Stream stream, string model, [EnumeratorCancellation] CancellationToken ct)
    {
        var chunks = new OpenAIChunks("", model);
        (long Prompt, long Completion, long Cached)? usage = null;
        string? finishReason = null;
        var calls = 0;
        var idSet = false;
        await foreach (var e in SseReader.ReadAsync(stream, ct))
        {
            if (JsonNode.Parse(e.Data) is not JsonObject data)
            {
                continue;
            }
            ThrowIfFailed(data);
            if (!idSet && OpenAIRequest.String(data["responseId"]) is { } id)
            {
                chunks.Id = id;
                idSet = true;
            }
            usage = Usage(data["usageMetadata"]) ?? usage;
            var candidate = data["candidates"]?[0];
            foreach (var part in candidate?["content"]?["parts"] as JsonArray ?? [])
            {
                var isThought = part?["thought"] is JsonValue t && t.TryGetValue<bool>(out var b) && b;
                if (OpenAIRequest.String(part?["text"]) is { Length: > 0 } text)
                {
                    yield return isThought ? chunks.Reasoning(text) : chunks.Text(text);
                }
                else if (part?["functionCall"] is JsonObject functionCall)
                {
                    // Gemini sends each call whole, arguments and all.
                    yield return chunks.ToolCallStart(calls, OpenAIRequest.String(functionCall["id"]) ?? CallId(calls),
                        OpenAIRequest.String(functionCall["name"]) ?? "", functionCall["args"]?.ToJsonString() ?? "{}");
                    calls++;
                }
            }
            finishReason = OpenAIRequest.String(candidate?["finishReason"]) ?? finishReason;
        }
        if (finishReason is null)
        {
            throw new IOException("the Gemini stream ended before any event carried a finishReason");
        }
        yield return chunks.Finish(FinishReason(finishReason, calls > 0));
        if (usage is { } u)
        {
            yield return chunks.Usage(u.Prompt, u.Completion, u.Cached);
        }
    }

    /// <summary>OpenAI embeddings request → <c>BatchEmbedContentsRequest</c>, one request per input.</summary>
    public static JsonObject TranslateEmbeddingsRequest(JsonObject openAI, string vendorModel)
    {
        var inputs = OpenAIRequest.EmbeddingInputs(openAI)
            ?? throw VendorError.BadRequest("Gemini embeds text: 'input' must be a string or an array of strings");
        var requests = new JsonArray();
        foreach (var input in inputs)
        {
            var request = new JsonObject
            {
                ["model"] = ResourceName(vendorModel),
                ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = input }) },
            };
            if (OpenAIRequest.Number(openAI["dimensions"]) is { } dimensions)
            {
                request["outputDimensionality"] = (int)dimensions;
            }
            requests.Add(request);
        }
        return new JsonObject { ["requests"] = requests };
    }

    /// <summary>
    /// <c>{embeddings:[{values}]}</c> → OpenAI list. Gemini reports no token count for embeddings, so the answer
    /// carries no <c>usage</c> and the gateway records an estimate instead of a false zero.
    /// </summary>
    public static JsonObject TranslateEmbeddings(JsonObject response, JsonObject openAI, string model)
    {
        ThrowIfFailed(response);
        var vectors = new List<float[]>();
        foreach (var embedding in response["embeddings"] as JsonArray ?? [])
        {
            vectors.Add(EmbeddingsEncoding.Vector(embedding?["values"]) ?? throw VendorError.Server("Gemini answered an embedding without values"));
        }
        var body = EmbeddingsEncoding.Shape(openAI, model, vectors, 0);
        body.Remove("usage");
        return body;
    }

    /// <summary>Gemini error (<c>{"error":{code,message,status,details}}</c>) → canonical error.</summary>
    public static VendorError MapError(int status, JsonNode? body, TimeSpan? retryAfter)
    {
        var error = body?["error"];
        var text = OpenAIRequest.String(error?["message"]) ?? VendorHttp.Describe(body, status);
        var message = "Gemini: " + text;
        var details = error?["details"] as JsonArray ?? [];
        var delay = RetryDelay(details) ?? retryAfter;
        return OpenAIRequest.String(error?["status"]) switch
        {
            "RESOURCE_EXHAUSTED" => RateOrQuota(message, text, details, delay),
            "INVALID_ARGUMENT" when Reasons(details).Any(r => r.StartsWith("API_KEY_", StringComparison.Ordinal)) => VendorError.Auth(message),
            "INVALID_ARGUMENT" => new VendorError(status is >= 400 and < 500 ? status : 400, VendorError.InvalidRequest, message),
            "UNAUTHENTICATED" => VendorError.Auth(message),
            "PERMISSION_DENIED" => new VendorError(403, VendorError.AuthFailed, message),
            // The account cannot use the API as it stands (free tier not offered in its region, billing off).
            "FAILED_PRECONDITION" when text.Contains("billing", StringComparison.OrdinalIgnoreCase) => VendorError.Quota(message),
            "FAILED_PRECONDITION" => new VendorError(403, VendorError.AuthFailed, message),
            "NOT_FOUND" => VendorError.NoModel(message),
            "UNAVAILABLE" => VendorError.Busy(message, delay),
            "DEADLINE_EXCEEDED" => new VendorError(504, VendorError.ServerError, message, delay),
            "INTERNAL" or "UNKNOWN" or "CANCELLED" or "ABORTED" or "DATA_LOSS" => new VendorError(status >= 500 ? status : 500, VendorError.ServerError, message),
            _ when status == 429 => RateOrQuota(message, text, details, delay),
            _ => VendorError.ForStatus(status >= 400 ? status : 502, message, delay),
        };
    }

    /// <summary>
    /// RESOURCE_EXHAUSTED covers both a per-minute limit and an account with nothing left; Gemini even words
    /// the per-minute case "You exceeded your current quota". A short <c>RetryInfo</c> or a per-minute
    /// <c>quotaId</c> means it passes; otherwise billing or quota wording, or a daily quota, means it does not.
    /// </summary>
    private static VendorError RateOrQuota(string message, string text, JsonArray details, TimeSpan? delay)
    {
        var quotaIds = details.OfType<JsonObject>().SelectMany(d => d["violations"] as JsonArray ?? [])
            .Select(v => OpenAIRequest.String(v?["quotaId"]) ?? "").ToList();
        var passing = (delay is { } d && d <= TimeSpan.FromMinutes(2)) || quotaIds.Any(q => q.Contains("PerMinute", StringComparison.Ordinal));
        var exhausted = text.Contains("billing", StringComparison.OrdinalIgnoreCase)
            || text.Contains("exceeded your current quota", StringComparison.OrdinalIgnoreCase)
            || text.Contains("credits", StringComparison.OrdinalIgnoreCase)
            || quotaIds.Any(q => q.Contains("PerDay", StringComparison.Ordinal));
        return exhausted && !passing ? VendorError.Quota(message) : VendorError.RateLimit(message, delay);
    }

    private static IEnumerable<string> Reasons(JsonArray details) =>
        details.OfType<JsonObject>().Select(d => OpenAIRequest.String(d["reason"])).OfType<string>();

    /// <summary><c>google.rpc.RetryInfo.retryDelay</c>, a protobuf duration such as <c>"26s"</c> or <c>"0.5s"</c>.</summary>
    private static TimeSpan? RetryDelay(JsonArray details)
    {
        foreach (var detail in details.OfType<JsonObject>())
        {
            if (OpenAIRequest.String(detail["@type"])?.EndsWith("google.rpc.RetryInfo", StringComparison.Ordinal) == true
                && OpenAIRequest.String(detail["retryDelay"]) is { Length: > 1 } delay && delay.EndsWith('s')
                && double.TryParse(delay[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }
        return null;
    }
}
