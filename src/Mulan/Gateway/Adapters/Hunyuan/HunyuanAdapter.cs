using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters.Hunyuan;

/// <summary>
/// Tencent Hunyuan over Tencent Cloud API 3.0: <c>POST /</c> of the base URL's origin, the action in
/// <c>X-TC-Action</c> (<c>ChatCompletions</c>, <c>GetEmbedding</c>), version <c>2023-09-01</c>, signed with
/// TC3-HMAC-SHA256 (<see cref="Tc3Signer"/>). The provider's <c>apiKey</c> is <c>SecretId:SecretKey</c>; an optional
/// <c>X-TC-Region</c> (or <c>X-TC-Token</c>) goes in the provider's headers. Bodies are PascalCase; errors come as
/// <c>{"Response":{"Error":{Code,Message}}}</c> in HTTP 200 bodies, also in answer to a stream request; a stream is
/// unwrapped <c>data:</c> chunks that end with a <c>FinishReason</c> and no terminator.
/// </summary>
/// <remarks>The API has no <c>max_tokens</c> or <c>stop</c>; they are not sent. GetEmbedding has no model
/// parameter: the deployment's model name is not sent for embeddings.</remarks>
public sealed class HunyuanAdapter(TimeProvider time) : IVendorAdapter
{
    public const string Service = "hunyuan";
    public const string Version = "2023-09-01";
    public const string ContentType = "application/json";
    public const string ChatAction = "ChatCompletions";
    public const string EmbeddingAction = "GetEmbedding";
    public const int EmbeddingDimensions = 1024;

    public WireProtocol Protocol => WireProtocol.Hunyuan;

    public async Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct)
    {
        JsonObject body;
        List<string>? inputs = null;
        var embeddings = call.Request.Endpoint == GatewayEndpoint.Embeddings;
        var credentials = Credentials(call.Deployment.Provider.ApiKey);
        if (embeddings)
        {
            inputs = EmbeddingInputs(call.Request.Body);
            body = new JsonObject { ["InputList"] = new JsonArray([.. inputs.Select(i => (JsonNode)i)]) };
        }
        else
        {
            body = TranslateRequest(call.Request.Body, call.Deployment.VendorModel, call.Request.Stream);
        }
        var response = await PostAsync(call, credentials, embeddings ? EmbeddingAction : ChatAction, body, ct);
        if (response.IsSuccessStatusCode && call.Request.Stream && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            var stream = await response.Content.ReadAsStreamAsync(ct);
            return await AdapterResponse.StreamAsync(TranslateStream(stream, call.Request.Model, ct), response, ct);
        }
        using (response)
        {
            try
            {
                var json = await VendorHttp.ReadJsonAsync(response, response.IsSuccessStatusCode ? call.MaxResponseBytes : 64 * 1024, ct);
                if (!response.IsSuccessStatusCode)
                {
                    throw ErrorIn(json) ?? VendorError.ForStatus((int)response.StatusCode, "Hunyuan: " + VendorHttp.Describe(json, (int)response.StatusCode));
                }
                if (json is not JsonObject answer)
                {
                    throw VendorError.Server("Hunyuan answered with a body that is not JSON");
                }
                if (embeddings)
                {
                    return AdapterResponse.Json(TranslateEmbeddings(answer, call.Request.Body, call.Request.Model, inputs!.Count));
                }
                if (call.Request.Stream)
                {
                    // Tencent answers a stream request that fails with a plain JSON error, still HTTP 200.
                    throw ErrorIn(answer) ?? VendorError.Server("Hunyuan answered a stream request with a body that is not a stream");
                }
                return AdapterResponse.Json(TranslateResponse(answer, call.Request.Model));
            }
            catch (VendorError e)
            {
                return e.ToResponse();
            }
        }
    }

    /// <summary>Splits the provider's <c>apiKey</c>, <c>SecretId:SecretKey</c>, at its first colon.</summary>
    /// <exception cref="VendorError">a part is missing (the message never repeats the key).</exception>
    public static (string SecretId, string SecretKey) Credentials(string? apiKey)
    {
        var colon = apiKey?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (apiKey is null || colon <= 0 || colon == apiKey.Length - 1)
        {
            throw VendorError.Auth("the Hunyuan provider's apiKey must be \"SecretId:SecretKey\", the Tencent Cloud API key pair joined by a colon");
        }
        return (apiKey[..colon].Trim(), apiKey[(colon + 1)..].Trim());
    }

    private async Task<HttpResponseMessage> PostAsync(AdapterCall call, (string Id, string Key) credentials, string action, JsonObject body, CancellationToken ct)
    {
        // API 3.0 signs the path "/": the request goes to the origin whatever path the base URL carries.
        var uri = new Uri(call.Deployment.Provider.BaseUrl, "/");
        var host = uri.Authority;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Serializer);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var signature = Tc3Signer.Sign(credentials.Id, credentials.Key, Service, host, action, ContentType, bytes, timestamp);
        var content = new ByteArrayContent(bytes);
        content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        // What was signed is what is sent: the Host header is set, not left to the handler.
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);
        request.Headers.TryAddWithoutValidation("X-TC-Action", action);
        request.Headers.TryAddWithoutValidation("X-TC-Version", Version);
        request.Headers.TryAddWithoutValidation("X-TC-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await VendorHttp.SendAsync(call, request, ct);
    }

    /// <summary>OpenAI chat request → Hunyuan <c>ChatCompletions</c> request.</summary>
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
                    Append(messages, UserMessage(m["content"]));
                    break;
                case "assistant":
                    var assistant = new JsonObject { ["Role"] = "assistant" };
                    var calls = new JsonArray();
                    foreach (var (id, name, arguments) in OpenAIRequest.ToolCalls(m))
                    {
                        calls.Add(new JsonObject
                        {
                            ["Id"] = id,
                            ["Type"] = "function",
                            ["Function"] = new JsonObject { ["Name"] = name, ["Arguments"] = arguments },
                        });
                    }
                    var said = OpenAIRequest.Text(m["content"]);
                    if (said.Length > 0 || calls.Count == 0)
                    {
                        assistant["Content"] = said;
                    }
                    if (calls.Count > 0)
                    {
                        assistant["ToolCalls"] = calls;
                    }
                    Append(messages, assistant);
                    break;
                case "tool":
                    messages.Add(new JsonObject
                    {
                        ["Role"] = "tool",
                        ["Content"] = OpenAIRequest.Text(m["content"]),
                        ["ToolCallId"] = OpenAIRequest.String(m["tool_call_id"]) ?? "",
                    });
                    break;
                default:
                    throw VendorError.BadRequest($"message role '{OpenAIRequest.String(m["role"])}' cannot be sent to Hunyuan");
            }
        }
        if (system.Count > 0)
        {
            // Hunyuan takes one system message, and only as the first one.
            messages.Insert(0, new JsonObject { ["Role"] = "system", ["Content"] = string.Join("\n\n", system) });
        }
        var body = new JsonObject { ["Model"] = vendorModel, ["Messages"] = messages, ["Stream"] = stream };
        if (OpenAIRequest.Number(openAI["temperature"]) is { } temperature)
        {
            body["Temperature"] = Math.Clamp(temperature, 0, 2);
        }
        if (OpenAIRequest.Number(openAI["top_p"]) is { } topP)
        {
            body["TopP"] = Math.Clamp(topP, 0, 1);
        }
        if (OpenAIRequest.Number(openAI["seed"]) is { } seed && seed is >= 1 and <= 10000)
        {
            body["Seed"] = (long)seed;
        }
        var tools = new JsonArray();
        foreach (var (name, description, parameters) in OpenAIRequest.Tools(openAI))
        {
            tools.Add(Tool(name, description, parameters));
        }
        if (tools.Count > 0)
        {
            body["Tools"] = tools;
            switch (openAI["tool_choice"])
            {
                case JsonValue v when v.TryGetValue<string>(out var choice) && choice is "none" or "auto":
                    body["ToolChoice"] = choice;
                    break;
                case JsonValue v when v.TryGetValue<string>(out var choice) && choice == "required":
                    // Hunyuan can force one named tool ("custom") but not "any tool": with one tool that is the same.
                    if (tools.Count == 1)
                    {
                        body["ToolChoice"] = "custom";
                        body["CustomTool"] = tools[0]!.DeepClone();
                    }
                    else
                    {
                        body["ToolChoice"] = "auto";
                    }
                    break;
                case JsonObject o when OpenAIRequest.String(o["function"]?["name"]) is { } forced:
                    body["ToolChoice"] = "custom";
                    body["CustomTool"] = tools.FirstOrDefault(t => OpenAIRequest.String(t?["Function"]?["Name"]) == forced)?.DeepClone()
                        ?? throw VendorError.BadRequest($"tool_choice names '{forced}', which is not among the tools");
                    break;
            }
        }
        return body;
    }

    private static JsonObject Tool(string name, string? description, JsonNode? parameters)
    {
        var function = new JsonObject { ["Name"] = name };
        if (description is not null)
        {
            function["Description"] = description;
        }
        // Hunyuan takes the JSON schema as a string.
        function["Parameters"] = (parameters ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() }).ToJsonString();
        return new JsonObject { ["Type"] = "function", ["Function"] = function };
    }

    private static JsonObject UserMessage(JsonNode? content)
    {
        if (content is not JsonArray parts || !parts.OfType<JsonObject>().Any(p => OpenAIRequest.String(p["type"]) == "image_url"))
        {
            return new JsonObject { ["Role"] = "user", ["Content"] = OpenAIRequest.Text(content) };
        }
        // Images go in Contents (the vision models); Content and Contents are exclusive.
        var contents = new JsonArray();
        foreach (var part in parts.OfType<JsonObject>())
        {
            switch (OpenAIRequest.String(part["type"]))
            {
                case "text":
                    contents.Add(new JsonObject { ["Type"] = "text", ["Text"] = OpenAIRequest.String(part["text"]) ?? "" });
                    break;
                case "image_url":
                    contents.Add(new JsonObject
                    {
                        ["Type"] = "image_url",
                        ["ImageUrl"] = new JsonObject { ["Url"] = OpenAIRequest.String(part["image_url"]?["url"]) ?? "" },
                    });
                    break;
                default:
                    throw VendorError.BadRequest($"content part '{OpenAIRequest.String(part["type"])}' cannot be sent to Hunyuan");
            }
        }
        return new JsonObject { ["Role"] = "user", ["Contents"] = contents };
    }

    // Hunyuan wants user (or tool) and assistant turns to alternate: consecutive user or assistant turns are merged.
    private static void Append(JsonArray messages, JsonObject message)
    {
        var role = OpenAIRequest.String(message["Role"]);
        if (messages.Count == 0 || messages[^1] is not JsonObject last || OpenAIRequest.String(last["Role"]) != role)
        {
            messages.Add(message);
            return;
        }
        if (last["Contents"] is not null || message["Contents"] is not null)
        {
            var merged = ContentsOf(last);
            foreach (var part in ContentsOf(message).ToList())
            {
                merged.Add(part!.DeepClone());
            }
            last.Remove("Content");
            last["Contents"] = merged;
        }
        else if (OpenAIRequest.String(message["Content"]) is { Length: > 0 } text)
        {
            last["Content"] = OpenAIRequest.String(last["Content"]) is { Length: > 0 } before ? before + "\n\n" + text : text;
        }
        if (message["ToolCalls"] is JsonArray calls)
        {
            var all = last["ToolCalls"] as JsonArray ?? [];
            foreach (var call in calls.ToList())
            {
                all.Add(call!.DeepClone());
            }
            last["ToolCalls"] = all;
        }
    }

    private static JsonArray ContentsOf(JsonObject message) => message["Contents"] as JsonArray
        ?? new JsonArray(new JsonObject { ["Type"] = "text", ["Text"] = OpenAIRequest.String(message["Content"]) ?? "" });

    /// <summary>Hunyuan <c>ChatCompletions</c> answer (wrapped in <c>Response</c> or not) → OpenAI <c>chat.completion</c>.</summary>
    /// <exception cref="VendorError">the answer is an error (<c>Response.Error</c>).</exception>
    public static JsonObject TranslateResponse(JsonObject answer, string model)
    {
        if (ErrorIn(answer) is { } error)
        {
            throw error;
        }
        var response = answer["Response"] as JsonObject ?? answer;
        var choice = response["Choices"]?[0] ?? throw VendorError.Server("Hunyuan answered without Choices");
        var message = choice["Message"];
        var id = OpenAIRequest.String(response["Id"]) ?? OpenAIRequest.String(response["RequestId"]) ?? "";
        var calls = new JsonArray();
        var index = 0;
        foreach (var call in message?["ToolCalls"] as JsonArray ?? [])
        {
            calls.Add(OpenAIShapes.ToolCall(OpenAIRequest.String(call?["Id"]) is { Length: > 0 } callId ? callId : CallId(id, index),
                OpenAIRequest.String(call?["Function"]?["Name"]) ?? "", OpenAIRequest.String(call?["Function"]?["Arguments"]) ?? "{}"));
            index++;
        }
        var text = OpenAIRequest.String(message?["Content"]);
        return OpenAIShapes.Completion(id, model, calls.Count > 0 && string.IsNullOrEmpty(text) ? null : text, calls,
            FinishReason(OpenAIRequest.String(choice["FinishReason"])), Usage(response["Usage"]));
    }

    // The documented function-call answer carries no call id; OpenAI clients need one to send the result back.
    private static string CallId(string responseId, int index) => $"call_{responseId}_{index}";

    private static JsonObject Usage(JsonNode? usage) => OpenAIShapes.Usage(
        (long)(OpenAIRequest.Number(usage?["PromptTokens"]) ?? 0), (long)(OpenAIRequest.Number(usage?["CompletionTokens"]) ?? 0));

    public static string FinishReason(string? reason) => reason switch
    {
        "tool_calls" => "tool_calls",
        "sensitive" => "content_filter",
        "length" => "length",
        _ => "stop",
    };

    /// <summary>Hunyuan's unwrapped SSE chunks → OpenAI chunks; the chunk with a <c>FinishReason</c> ends the stream.</summary>
    public static async IAsyncEnumerable<OpenAIChunk> TranslateStream(Stream stream, string model, [EnumeratorCancellation] CancellationToken ct)
    {
        var chunks = new OpenAIChunks("", model);
        JsonNode? usage = null;
        var calls = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var e in SseReader.ReadAsync(stream, ct))
        {
            if (JsonNode.Parse(e.Data) is not JsonObject data)
            {
                continue;
            }
            if (ErrorIn(data) is { } error)
            {
                throw error;
            }
            if (data["ErrorMsg"] is JsonObject failure)
            {
                // A failure after the stream began: 4000 internal error, 4001 model timeout.
                var message = "Hunyuan: " + (OpenAIRequest.String(failure["Msg"]) ?? "the stream failed");
                throw OpenAIRequest.Number(failure["Code"]) == 4001 ? new VendorError(504, VendorError.ServerError, message) : VendorError.Server(message);
            }
            if (OpenAIRequest.String(data["Id"]) is { Length: > 0 } id)
            {
                chunks.Id = id;
            }
            usage = data["Usage"] ?? usage;
            var choice = data["Choices"]?[0];
            var delta = choice?["Delta"];
            if (OpenAIRequest.String(delta?["Content"]) is { Length: > 0 } text)
            {
                yield return chunks.Text(text);
            }
            var position = 0;
            foreach (var call in delta?["ToolCalls"] as JsonArray ?? [])
            {
                // Fragments of one call share its Id (documented: merge Type, Name and Arguments by Id).
                var callId = OpenAIRequest.String(call?["Id"]);
                var key = callId is { Length: > 0 } ? callId : "#" + (OpenAIRequest.Number(call?["Index"]) ?? position);
                var arguments = OpenAIRequest.String(call?["Function"]?["Arguments"]) ?? "";
                if (!calls.TryGetValue(key, out var index))
                {
                    index = calls[key] = calls.Count;
                    yield return chunks.ToolCallStart(index, callId is { Length: > 0 } ? callId : CallId(chunks.Id, index),
                        OpenAIRequest.String(call?["Function"]?["Name"]) ?? "", arguments);
                }
                else if (arguments.Length > 0)
                {
                    yield return chunks.ToolCallArguments(index, arguments);
                }
                position++;
            }
            if (OpenAIRequest.String(choice?["FinishReason"]) is { Length: > 0 } finish)
            {
                yield return chunks.Finish(FinishReason(finish));
                var total = Usage(usage);
                yield return chunks.Usage(total["prompt_tokens"]!.GetValue<long>(), total["completion_tokens"]!.GetValue<long>());
                yield break;
            }
        }
        throw new IOException("the Hunyuan stream ended without a FinishReason");
    }

    private static List<string> EmbeddingInputs(JsonObject body)
    {
        if (OpenAIRequest.Number(body["dimensions"]) is { } dimensions && dimensions != EmbeddingDimensions)
        {
            throw VendorError.BadRequest($"Hunyuan embeddings have {EmbeddingDimensions} dimensions; 'dimensions' cannot be changed");
        }
        return OpenAIRequest.EmbeddingInputs(body) ?? throw VendorError.BadRequest("Hunyuan embeddings take text inputs, not token arrays");
    }

    /// <summary>Hunyuan <c>GetEmbedding</c> answer → OpenAI embeddings, in input order.</summary>
    public static JsonObject TranslateEmbeddings(JsonObject answer, JsonObject request, string model, int expected)
    {
        if (ErrorIn(answer) is { } error)
        {
            throw error;
        }
        var response = answer["Response"] as JsonObject ?? answer;
        var vectors = new float[]?[expected];
        var position = 0;
        foreach (var item in response["Data"] as JsonArray ?? [])
        {
            var index = (int)(OpenAIRequest.Number(item?["Index"]) ?? position);
            if (index >= 0 && index < expected)
            {
                vectors[index] = EmbeddingsEncoding.Vector(item?["Embedding"]);
            }
            position++;
        }
        if (vectors.Any(v => v is null))
        {
            throw VendorError.Server($"Hunyuan returned fewer embeddings than the {expected} inputs");
        }
        var prompt = (long)(OpenAIRequest.Number(response["Usage"]?["PromptTokens"]) ?? OpenAIRequest.Number(response["Usage"]?["TotalTokens"]) ?? 0);
        return EmbeddingsEncoding.Shape(request, model, vectors!, prompt);
    }

    /// <summary>The error of a Hunyuan answer (<c>Response.Error</c>, or a bare <c>Error</c>), or null when it is none.</summary>
    public static VendorError? ErrorIn(JsonNode? answer)
    {
        var error = answer?["Response"]?["Error"] ?? answer?["Error"];
        return error is JsonObject e ? MapError(OpenAIRequest.String(e["Code"]), OpenAIRequest.String(e["Message"])) : null;
    }

    /// <summary>A Tencent Cloud error code → canonical error (the common codes and Hunyuan's own).</summary>
    public static VendorError MapError(string? code, string? message)
    {
        code ??= "";
        var text = $"Hunyuan: {(code.Length > 0 ? code : "error")}: {message ?? "no message"}";
        if (Is(code, "AuthFailure") || Is(code, "UnauthorizedOperation"))
        {
            return VendorError.Auth(text);
        }
        if (code == "FailedOperation.EngineServerLimitExceeded")
        {
            return VendorError.Busy(text);
        }
        if (Is(code, "RequestLimitExceeded") || Is(code, "LimitExceeded"))
        {
            return VendorError.RateLimit(text);
        }
        if (code is "FailedOperation.FreeResourcePackExhausted" or "FailedOperation.ResourcePackExhausted" or "FailedOperation.ServiceNotActivated"
            or "FailedOperation.ServiceStop" or "FailedOperation.ServiceStopArrears" || Is(code, "ResourceInsufficient") || Is(code, "ResourceUnavailable"))
        {
            return VendorError.Quota(text);
        }
        if (Is(code, "OperationDenied") || code == "FailedOperation.GenerateImageFailed")
        {
            return VendorError.Filtered(text);
        }
        if (code == "FailedOperation.EngineRequestTimeout")
        {
            return new VendorError(504, VendorError.ServerError, text);
        }
        if (code == "InvalidParameterValue.Model")
        {
            return VendorError.NoModel(text);
        }
        if (Is(code, "InvalidParameter") || Is(code, "InvalidParameterValue") || Is(code, "MissingParameter") || Is(code, "UnknownParameter"))
        {
            return VendorError.BadRequest(text);
        }
        if (code is "InvalidAction" or "NoSuchVersion" or "ActionOffline" or "UnsupportedRegion" or "UnsupportedOperation")
        {
            return new VendorError(501, VendorError.Unsupported, text);
        }
        return VendorError.Server(text);
    }

    private static bool Is(string code, string family) =>
        code == family || (code.StartsWith(family, StringComparison.Ordinal) && code.Length > family.Length && code[family.Length] == '.');
}
