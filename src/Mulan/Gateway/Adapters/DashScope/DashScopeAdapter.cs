using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters.DashScope;

/// <summary>
/// Alibaba DashScope's native API (<c>Authorization: Bearer</c>): text generation at
/// <c>/api/v1/services/aigc/text-generation/generation</c> with the messages inside <c>input</c> and the options in
/// <c>parameters</c> (<c>result_format:"message"</c>); streams on <c>X-DashScope-SSE: enable</c> as
/// <c>id:</c>/<c>event:result</c>/<c>:HTTP_STATUS/200</c>/<c>data:</c> events whose <c>finish_reason</c> is the string
/// <c>"null"</c> until the last, with cumulative usage on every event and no terminator. Embeddings at
/// <c>/api/v1/services/embeddings/text-embedding/text-embedding</c>, at most <see cref="MaxTextsPerCall"/> texts a call.
/// Errors are <c>{request_id, code, message}</c> with an HTTP status, or an <c>event:error</c> in a stream.
/// </summary>
public sealed class DashScopeAdapter : IVendorAdapter
{
    public const string GenerationPath = "/api/v1/services/aigc/text-generation/generation";
    public const string EmbeddingPath = "/api/v1/services/embeddings/text-embedding/text-embedding";
    public const int MaxTextsPerCall = 10;

    public WireProtocol Protocol => WireProtocol.DashScope;

    public async Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct)
    {
        if (call.Request.Endpoint == GatewayEndpoint.Embeddings)
        {
            return await EmbedAsync(call, ct);
        }
        var body = TranslateRequest(call.Request.Body, call.Deployment.VendorModel, call.Request.Stream);
        var response = await PostAsync(call, GenerationPath, body, call.Request.Stream, ct);
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                return (await FailureAsync(response, ct)).ToResponse();
            }
        }
        if (call.Request.Stream && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            var stream = await response.Content.ReadAsStreamAsync(ct);
            return await AdapterResponse.StreamAsync(TranslateStream(stream, call.Request.Model, ct), response, ct);
        }
        using (response)
        {
            try
            {
                var json = await VendorHttp.ReadJsonAsync(response, call.MaxResponseBytes, ct) as JsonObject
                    ?? throw VendorError.Server("DashScope answered with a body that is not JSON");
                if (call.Request.Stream)
                {
                    throw (IsError(json) ? MapError(200, json, null) : null)
                        ?? VendorError.Server("DashScope answered a stream request with a body that is not a stream");
                }
                return AdapterResponse.Json(TranslateResponse(json, call.Request.Model));
            }
            catch (VendorError e)
            {
                return e.ToResponse();
            }
        }
    }

    private static Task<HttpResponseMessage> PostAsync(AdapterCall call, string path, JsonObject body, bool stream, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Root(call.Deployment.Provider.BaseUrl) + path)) { Content = VendorHttp.JsonContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + call.Deployment.Provider.ApiKey);
        if (stream)
        {
            request.Headers.TryAddWithoutValidation("X-DashScope-SSE", "enable");
        }
        return VendorHttp.SendAsync(call, request, ct);
    }

    // The base URL is the host; one written with the API's "/api/v1" prefix is accepted as well.
    private static string Root(Uri baseUrl)
    {
        var root = baseUrl.AbsoluteUri.TrimEnd('/');
        return root.EndsWith("/api/v1", StringComparison.Ordinal) ? root[..^"/api/v1".Length] : root;
    }

    /// <summary>A failed HTTP answer: a JSON error body, or (to a stream request) an SSE <c>event:error</c>.</summary>
    private static async Task<VendorError> FailureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var bytes = await GatewayProxy.ReadLimitedAsync(response.Content, 64 * 1024, ct);
        return MapError(status, ErrorBody(bytes ?? []), VendorHttp.RetryAfter(response));
    }

    private static JsonNode? ErrorBody(byte[] bytes)
    {
        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException)
        {
        }
        foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                try
                {
                    return JsonNode.Parse(line[5..].Trim());
                }
                catch (JsonException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    /// <summary>OpenAI chat request → DashScope text-generation request.</summary>
    public static JsonObject TranslateRequest(JsonObject openAI, string vendorModel, bool stream)
    {
        var system = new List<string>();
        var messages = new JsonArray();
        foreach (var node in openAI["messages"]!.AsArray())
        {
            var m = node!.AsObject();
            switch (OpenAIRequest.String(m["role"]))
            {
                case "system" or "developer":
                    system.Add(OpenAIRequest.Text(m["content"]));
                    break;
                case "user":
                    if (m["content"] is JsonArray parts && parts.OfType<JsonObject>().Any(p => OpenAIRequest.String(p["type"]) is not ("text" or null)))
                    {
                        throw VendorError.BadRequest("DashScope text generation takes text only; images need a vision model on the multimodal endpoint");
                    }
                    messages.Add(new JsonObject { ["role"] = "user", ["content"] = OpenAIRequest.Text(m["content"]) });
                    break;
                case "assistant":
                    var assistant = new JsonObject { ["role"] = "assistant", ["content"] = OpenAIRequest.Text(m["content"]) };
                    var calls = new JsonArray();
                    foreach (var (id, name, arguments) in OpenAIRequest.ToolCalls(m))
                    {
                        calls.Add(OpenAIShapes.ToolCall(id, name, arguments));
                    }
                    if (calls.Count > 0)
                    {
                        assistant["tool_calls"] = calls;
                    }
                    messages.Add(assistant);
                    break;
                case "tool":
                    messages.Add(new JsonObject
                    {
                        ["role"] = "tool",
                        ["content"] = OpenAIRequest.Text(m["content"]),
                        ["tool_call_id"] = OpenAIRequest.String(m["tool_call_id"]) ?? "",
                    });
                    break;
                default:
                    throw VendorError.BadRequest($"message role '{OpenAIRequest.String(m["role"])}' cannot be sent to DashScope");
            }
        }
        if (system.Count > 0)
        {
            messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = string.Join("\n\n", system) });
        }
        var parameters = new JsonObject { ["result_format"] = "message" };
        if (stream)
        {
            // Without it every event repeats the whole text so far.
            parameters["incremental_output"] = true;
        }
        if (OpenAIRequest.Number(openAI["temperature"]) is { } temperature)
        {
            parameters["temperature"] = Math.Clamp(temperature, 0, 1.99); // DashScope: [0, 2)
        }
        if (OpenAIRequest.Number(openAI["top_p"]) is { } topP)
        {
            parameters["top_p"] = topP;
        }
        if (OpenAIRequest.MaxTokens(openAI) is { } maxTokens)
        {
            parameters["max_tokens"] = maxTokens;
        }
        if (OpenAIRequest.Number(openAI["seed"]) is { } seed)
        {
            parameters["seed"] = (long)seed;
        }
        if (OpenAIRequest.Stop(openAI) is { Count: > 0 } stop)
        {
            parameters["stop"] = new JsonArray([.. stop.Select(s => (JsonNode)s)]);
        }
        var tools = new JsonArray();
        foreach (var (name, description, schema) in OpenAIRequest.Tools(openAI))
        {
            var function = new JsonObject { ["name"] = name };
            if (description is not null)
            {
                function["description"] = description;
            }
            function["parameters"] = schema ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            tools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        if (tools.Count > 0)
        {
            parameters["tools"] = tools;
            switch (openAI["tool_choice"])
            {
                case JsonValue v when v.TryGetValue<string>(out var choice) && choice is "none" or "auto":
                    parameters["tool_choice"] = choice;
                    break;
                case JsonValue v when v.TryGetValue<string>(out var choice) && choice == "required":
                    // DashScope forces one named function, not "any": with one tool that is the same thing.
                    parameters["tool_choice"] = tools.Count == 1 ? Forced(OpenAIRequest.String(tools[0]!["function"]!["name"])!) : "auto";
                    break;
                case JsonObject o when OpenAIRequest.String(o["function"]?["name"]) is { } forced:
                    parameters["tool_choice"] = Forced(forced);
                    break;
            }
        }
        return new JsonObject
        {
            ["model"] = vendorModel,
            ["input"] = new JsonObject { ["messages"] = messages },
            ["parameters"] = parameters,
        };
    }

    private static JsonObject Forced(string name) => new() { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };

    /// <summary>DashScope generation answer → OpenAI <c>chat.completion</c>.</summary>
    public static JsonObject TranslateResponse(JsonObject answer, string model)
    {
        if (IsError(answer))
        {
            throw MapError(200, answer, null);
        }
        var output = answer["output"] ?? throw VendorError.Server("DashScope answered without output");
        var choice = output["choices"]?[0];
        // result_format "text" puts the text and finish_reason straight in output.
        var message = choice?["message"];
        var text = choice is null ? OpenAIRequest.String(output["text"]) : Text(message?["content"]);
        var calls = new JsonArray();
        foreach (var call in message?["tool_calls"] as JsonArray ?? [])
        {
            calls.Add(OpenAIShapes.ToolCall(OpenAIRequest.String(call?["id"]) ?? "", OpenAIRequest.String(call?["function"]?["name"]) ?? "",
                OpenAIRequest.String(call?["function"]?["arguments"]) ?? "{}"));
        }
        var finish = OpenAIRequest.String(choice?["finish_reason"] ?? output["finish_reason"]);
        return OpenAIShapes.Completion(OpenAIRequest.String(answer["request_id"]) ?? "", model, calls.Count > 0 && string.IsNullOrEmpty(text) ? null : text,
            calls, FinishReason(finish, calls.Count > 0), Usage(answer["usage"]));
    }

    private static string? Text(JsonNode? content) => content switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray parts => string.Concat(parts.Select(p => OpenAIRequest.String(p?["text"]))),
        _ => null,
    };

    private static JsonObject Usage(JsonNode? usage) => OpenAIShapes.Usage(
        (long)(OpenAIRequest.Number(usage?["input_tokens"]) ?? 0),
        (long)(OpenAIRequest.Number(usage?["output_tokens"]) ?? 0),
        (long)(OpenAIRequest.Number(usage?["prompt_tokens_details"]?["cached_tokens"]) ?? 0));

    public static string FinishReason(string? reason, bool toolCalls = false) => reason switch
    {
        "length" => "length",
        "tool_calls" => "tool_calls",
        _ => toolCalls ? "tool_calls" : "stop",
    };

    /// <summary>DashScope's native SSE events → OpenAI chunks, ending at the first real <c>finish_reason</c>.</summary>
    public static async IAsyncEnumerable<OpenAIChunk> TranslateStream(Stream stream, string model, [EnumeratorCancellation] CancellationToken ct)
    {
        var chunks = new OpenAIChunks("", model);
        JsonNode? usage = null;
        var calls = new Dictionary<int, int>();
        await foreach (var e in SseReader.ReadAsync(stream, ct))
        {
            if (JsonNode.Parse(e.Data) is not JsonObject data)
            {
                continue;
            }
            if (e.Name == "error" || IsError(data))
            {
                throw MapError(500, data, null);
            }
            if (OpenAIRequest.String(data["request_id"]) is { Length: > 0 } id)
            {
                chunks.Id = id;
            }
            usage = data["usage"] ?? usage;
            var output = data["output"];
            var choice = output?["choices"]?[0];
            var message = choice?["message"];
            if (OpenAIRequest.String(message?["reasoning_content"]) is { Length: > 0 } thought)
            {
                yield return chunks.Reasoning(thought);
            }
            if ((choice is null ? OpenAIRequest.String(output?["text"]) : Text(message?["content"])) is { Length: > 0 } text)
            {
                yield return chunks.Text(text);
            }
            var position = 0;
            foreach (var call in message?["tool_calls"] as JsonArray ?? [])
            {
                var vendorIndex = (int)(OpenAIRequest.Number(call?["index"]) ?? position);
                position++;
                var arguments = OpenAIRequest.String(call?["function"]?["arguments"]) ?? "";
                if (!calls.TryGetValue(vendorIndex, out var index))
                {
                    index = calls[vendorIndex] = calls.Count;
                    yield return chunks.ToolCallStart(index, OpenAIRequest.String(call?["id"]) ?? "", OpenAIRequest.String(call?["function"]?["name"]) ?? "", arguments);
                }
                else if (arguments.Length > 0)
                {
                    yield return chunks.ToolCallArguments(index, arguments);
                }
            }
            // "null" (a string) until the last event.
            if (OpenAIRequest.String(choice?["finish_reason"] ?? output?["finish_reason"]) is { Length: > 0 } finish && finish != "null")
            {
                yield return chunks.Finish(FinishReason(finish, calls.Count > 0));
                var total = Usage(usage);
                yield return chunks.Usage(total["prompt_tokens"]!.GetValue<long>(), total["completion_tokens"]!.GetValue<long>(),
                    (long)(OpenAIRequest.Number(usage?["prompt_tokens_details"]?["cached_tokens"]) ?? 0));
                yield break;
            }
        }
        throw new IOException("the DashScope stream ended without a finish_reason");
    }

    private static async Task<HttpResponseMessage> EmbedAsync(AdapterCall call, CancellationToken ct)
    {
        var request = call.Request.Body;
        var inputs = OpenAIRequest.EmbeddingInputs(request);
        if (inputs is null)
        {
            return VendorError.BadRequest("DashScope embeddings take text inputs, not token arrays").ToResponse();
        }
        var vectors = new float[inputs.Count][];
        long tokens = 0;
        // DashScope embeds at most ten texts a call: larger inputs go in several calls, merged in order.
        for (var offset = 0; offset < inputs.Count; offset += MaxTextsPerCall)
        {
            var batch = inputs.Skip(offset).Take(MaxTextsPerCall).ToList();
            var body = TranslateEmbeddingsRequest(request, call.Deployment.VendorModel, batch);
            using var response = await PostAsync(call, EmbeddingPath, body, stream: false, ct);
            try
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw await FailureAsync(response, ct);
                }
                var json = await VendorHttp.ReadJsonAsync(response, call.MaxResponseBytes, ct) as JsonObject
                    ?? throw VendorError.Server("DashScope answered with a body that is not JSON");
                tokens += ReadEmbeddings(json, vectors, offset, batch.Count);
            }
            catch (VendorError e)
            {
                return e.ToResponse();
            }
        }
        return AdapterResponse.Json(EmbeddingsEncoding.Shape(request, call.Request.Model, vectors, tokens));
    }

    public static JsonObject TranslateEmbeddingsRequest(JsonObject openAI, string vendorModel, IReadOnlyList<string> texts)
    {
        var body = new JsonObject
        {
            ["model"] = vendorModel,
            ["input"] = new JsonObject { ["texts"] = new JsonArray([.. texts.Select(t => (JsonNode)t)]) },
        };
        if (OpenAIRequest.Number(openAI["dimensions"]) is { } dimensions)
        {
            body["parameters"] = new JsonObject { ["dimension"] = (int)dimensions };
        }
        return body;
    }

    /// <summary>Places one call's <c>output.embeddings</c> (by <c>text_index</c>) at <paramref name="offset"/>; returns its tokens.</summary>
    public static long ReadEmbeddings(JsonObject answer, float[][] vectors, int offset, int count)
    {
        if (IsError(answer))
        {
            throw MapError(200, answer, null);
        }
        var found = 0;
        foreach (var item in answer["output"]?["embeddings"] as JsonArray ?? [])
        {
            var index = (int)(OpenAIRequest.Number(item?["text_index"]) ?? -1);
            if (index >= 0 && index < count && EmbeddingsEncoding.Vector(item?["embedding"]) is { } vector)
            {
                vectors[offset + index] = vector;
                found++;
            }
        }
        if (found != count)
        {
            throw VendorError.Server($"DashScope returned {found} embeddings for {count} texts");
        }
        return (long)(OpenAIRequest.Number(answer["usage"]?["total_tokens"]) ?? 0);
    }

    private static bool IsError(JsonObject answer) => answer["output"] is null && OpenAIRequest.String(answer["code"]) is { Length: > 0 };

    /// <summary>DashScope error (<c>{request_id, code, message}</c>) → canonical error.</summary>
    public static VendorError MapError(int status, JsonNode? body, TimeSpan? retryAfter)
    {
        var code = OpenAIRequest.String(body?["code"]) ?? "";
        var message = $"DashScope: {(code.Length > 0 ? code : "HTTP " + status)}: {OpenAIRequest.String(body?["message"]) ?? VendorHttp.Describe(body, status)}";
        return code switch
        {
            "DataInspectionFailed" or "data_inspection_failed" => VendorError.Filtered(message),
            // Unpaid account, or a free tier used up with "free tier only" on: money, not speed, is missing.
            "Arrearage" or "FreeQuotaExhausted" or "AllocationQuota.FreeTierOnly" => VendorError.Quota(message),
            "InvalidApiKey" => VendorError.Auth(message),
            _ when code.StartsWith("AccessDenied", StringComparison.Ordinal) => new VendorError(403, VendorError.AuthFailed, message),
            _ when code.StartsWith("Throttling", StringComparison.Ordinal) => VendorError.RateLimit(message, retryAfter),
            "RequestTimeOut" => new VendorError(408, VendorError.ServerError, message),
            "ModelNotFound" => VendorError.NoModel(message),
            _ when code.StartsWith("InternalError", StringComparison.Ordinal) => new VendorError(status >= 500 ? status : 500, VendorError.ServerError, message),
            _ when code.StartsWith("InvalidParameter", StringComparison.Ordinal) => VendorError.BadRequest(message),
            _ => VendorError.ForStatus(status >= 400 ? status : 502, message, retryAfter),
        };
    }
}
