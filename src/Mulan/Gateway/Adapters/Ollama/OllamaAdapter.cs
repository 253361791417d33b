using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters.Ollama;

/// <summary>
/// Ollama's native API (<c>POST {baseUrl}/api/chat</c>, <c>/api/embed</c>). No key locally; a provider with an
/// apiKey (Ollama behind a proxy, Ollama's cloud) sends it as a bearer token. Streams are NDJSON, one object a
/// line, ending with a <c>done:true</c> line that holds the token counts; tool calls arrive whole.
/// </summary>
public sealed class OllamaAdapter : IVendorAdapter
{
    public WireProtocol Protocol => WireProtocol.Ollama;

    public async Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct)
    {
        var embeddings = call.Request.Endpoint == GatewayEndpoint.Embeddings;
        var body = embeddings
            ? TranslateEmbeddingsRequest(call.Request.Body, call.Deployment.VendorModel)
            : TranslateRequest(call.Request.Body, call.Deployment.VendorModel, call.Request.Stream);
        var provider = call.Deployment.Provider;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(provider.BaseUrl.AbsoluteUri.TrimEnd('/') + (embeddings ? "/api/embed" : "/api/chat")))
        {
            Content = VendorHttp.JsonContent(body),
        };
        if (!string.IsNullOrEmpty(provider.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", provider.ApiKey);
        }
        var response = await VendorHttp.SendAsync(call, request, ct);
        return await VendorHttp.AnswerAsync(call, response, MapError,
            call.Request.Stream && !embeddings ? body => TranslateStream(body, call.Request.Model, ct) : null,
            answer => embeddings ? TranslateEmbeddings(answer, call.Request.Body, call.Request.Model) : TranslateResponse(answer, call.Request.Model), ct);
    }

    /// <summary>OpenAI chat request → Ollama <c>/api/chat</c> request.</summary>
    public static JsonObject TranslateRequest(JsonObject openAI, string vendorModel, bool stream)
    {
        var messages = new JsonArray();
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in openAI["messages"]!.AsArray())
        {
            var m = node!.AsObject();
            switch (OpenAIRequest.String(m["role"]))
            {
                case "system" or "developer":
                    messages.Add(new JsonObject { ["role"] = "system", ["content"] = OpenAIRequest.Text(m["content"]) });
                    break;
                case "user":
                    messages.Add(UserMessage(m["content"]));
                    break;
                case "assistant":
                    var message = new JsonObject { ["role"] = "assistant", ["content"] = OpenAIRequest.Text(m["content"]) };
                    var calls = new JsonArray();
                    foreach (var (id, name, arguments) in OpenAIRequest.ToolCalls(m))
                    {
                        callNames[id] = name;
                        calls.Add(new JsonObject { ["function"] = new JsonObject { ["name"] = name, ["arguments"] = OpenAIRequest.Arguments(arguments) } });
                    }
                    if (calls.Count > 0)
                    {
                        message["tool_calls"] = calls;
                    }
                    messages.Add(message);
                    break;
                case "tool":
                    // Ollama has no call ids; the function's name tells the model which call this answers.
                    var result = new JsonObject { ["role"] = "tool", ["content"] = OpenAIRequest.Text(m["content"]) };
                    if (callNames.GetValueOrDefault(OpenAIRequest.String(m["tool_call_id"]) ?? "") is { } function)
                    {
                        result["tool_name"] = function;
                    }
                    messages.Add(result);
                    break;
                default:
                    throw VendorError.BadRequest($"message role '{OpenAIRequest.String(m["role"])}' cannot be sent to Ollama");
            }
        }
        // Ollama streams unless told otherwise, so the choice is always written out.
        var body = new JsonObject { ["model"] = vendorModel, ["messages"] = messages, ["stream"] = stream };
        var options = new JsonObject();
        if (OpenAIRequest.Number(openAI["temperature"]) is { } temperature)
        {
            options["temperature"] = temperature;
        }
        if (OpenAIRequest.Number(openAI["top_p"]) is { } topP)
        {
            options["top_p"] = topP;
        }
        if (OpenAIRequest.MaxTokens(openAI) is { } max)
        {
            options["num_predict"] = max;
        }
        if (OpenAIRequest.Number(openAI["seed"]) is { } seed)
        {
            options["seed"] = (long)seed;
        }
        if (OpenAIRequest.Stop(openAI) is { Count: > 0 } stop)
        {
            options["stop"] = new JsonArray([.. stop.Select(s => (JsonNode)s)]);
        }
        if (OpenAIRequest.Number(openAI["presence_penalty"]) is { } presence)
        {
            options["presence_penalty"] = presence;
        }
        if (OpenAIRequest.Number(openAI["frequency_penalty"]) is { } frequency)
        {
            options["frequency_penalty"] = frequency;
        }
        if (options.Count > 0)
        {
            body["options"] = options;
        }
        switch (OpenAIRequest.String(openAI["response_format"]?["type"]))
        {
            case "json_object":
                body["format"] = "json";
                break;
            case "json_schema":
                body["format"] = openAI["response_format"]?["json_schema"]?["schema"]?.DeepClone() ?? "json";
                break;
        }
        // Ollama cannot be told not to call tools; a request that forbids them simply does not offer them.
        if (OpenAIRequest.String(openAI["tool_choice"]) != "none")
        {
            var tools = new JsonArray();
            foreach (var (name, description, parameters) in OpenAIRequest.Tools(openAI))
            {
                var function = new JsonObject { ["name"] = name };
                if (description is not null)
                {
                    function["description"] = description;
                }
                function["parameters"] = parameters ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
                tools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
            }
            if (tools.Count > 0)
            {
                body["tools"] = tools;
            }
        }
        return body;
    }

    private static JsonObject UserMessage(JsonNode? content)
    {
        var message = new JsonObject { ["role"] = "user", ["content"] = OpenAIRequest.Text(content) };
        var images = new JsonArray();
        foreach (var part in content as JsonArray ?? [])
        {
            switch (OpenAIRequest.String(part?["type"]))
            {
                case "text":
                    break;
                case "image_url":
                    // Ollama wants the bare base64 of each image, and fetches nothing itself.
                    var url = OpenAIRequest.String(part!["image_url"]?["url"]) ?? "";
                    if (!url.StartsWith("data:", StringComparison.Ordinal) || url.IndexOf(";base64,", StringComparison.Ordinal) is not (> 5 and var at))
                    {
                        throw VendorError.BadRequest("Ollama takes images inline: send them as data: URLs (base64)");
                    }
                    images.Add(url[(at + 8)..]);
                    break;
                default:
                    throw VendorError.BadRequest($"content part '{OpenAIRequest.String(part?["type"])}' cannot be sent to Ollama");
            }
        }
        if (images.Count > 0)
        {
            message["images"] = images;
        }
        return message;
    }

    /// <summary>Ollama <c>/api/chat</c> answer (<c>done:true</c>) → OpenAI <c>chat.completion</c>.</summary>
    public static JsonObject TranslateResponse(JsonObject response, string model)
    {
        ThrowIfFailed(response);
        var calls = new JsonArray();
        foreach (var (id, name, arguments) in ToolCalls(response["message"]))
        {
            calls.Add(OpenAIShapes.ToolCall(id ?? CallId(calls.Count), name, arguments));
        }
        // OpenAI gives a message that only calls tools null content; Ollama gives "".
        var content = OpenAIRequest.String(response["message"]?["content"]) is { } text && (text.Length > 0 || calls.Count == 0) ? text : null;
        var completion = OpenAIShapes.Completion(NewId(), model, content, calls,
            FinishReason(OpenAIRequest.String(response["done_reason"]), calls.Count > 0), new JsonObject());
        if (Usage(response) is { } usage)
        {
            completion["usage"] = OpenAIShapes.Usage(usage.Prompt, usage.Completion);
        }
        else
        {
            completion.Remove("usage"); // none reported: the gateway estimates
        }
        return completion;
    }

    /// <summary>Ollama generates no completion ids.</summary>
    private static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    public static string CallId(int index) => "call_" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The tool calls of an Ollama message: arguments are an object (a string from some proxies is kept).</summary>
    private static IEnumerable<(string? Id, string Name, string Arguments)> ToolCalls(JsonNode? message)
    {
        foreach (var call in message?["tool_calls"] as JsonArray ?? [])
        {
            if (call?["function"] is not JsonObject function)
            {
                continue;
            }
            var arguments = function["arguments"] switch
            {
                null => "{}",
                JsonValue v when v.TryGetValue<string>(out var text) => text,
                var other => other.ToJsonString(),
            };
            yield return (OpenAIRequest.String(call["id"]), OpenAIRequest.String(function["name"]) ?? "", arguments);
        }
    }

    private static (long Prompt, long Completion)? Usage(JsonObject final)
    {
        var prompt = OpenAIRequest.Number(final["prompt_eval_count"]);
        var completion = OpenAIRequest.Number(final["eval_count"]);
        return prompt is null && completion is null ? null : ((long)(prompt ?? 0), (long)(completion ?? 0));
    }

    public static string FinishReason(string? doneReason, bool calledTools) => doneReason switch
    {
        "length" => "length",
        _ when calledTools => "tool_calls",
        _ => "stop",
    };

    private static void ThrowIfFailed(JsonObject body)
    {
        if (body["error"] is not null)
        {
            throw MapError(200, body, null);
        }
    }

    /// <summary>Ollama NDJSON → OpenAI chunks; complete only at the <c>done:true</c> line.</summary>
    public static async IAsyncEnumerable<OpenAIChunk> TranslateStream(Stream stream, string model, [EnumeratorCancellation] CancellationToken ct)
    {
        var chunks = new OpenAIChunks(NewId(), model);
        var calls = 0;
        await foreach (var line in NdjsonReader.ReadAsync(stream, ct))
        {
            if (JsonNode.Parse(line) is not JsonObject data)
            {
                continue;
            }
            ThrowIfFailed(data);
            var message = data["message"];
            if (OpenAIRequest.String(message?["thinking"]) is { Length: > 0 } thinking)
            {
                yield return chunks.Reasoning(thinking);
            }
            if (OpenAIRequest.String(message?["content"]) is { Length: > 0 } content)
            {
                yield return chunks.Text(content);
            }
            foreach (var (id, name, arguments) in ToolCalls(message))
            {
                yield return chunks.ToolCallStart(calls, id ?? CallId(calls), name, arguments);
                calls++;
            }
            if (data["done"] is JsonValue done && done.TryGetValue<bool>(out var isDone) && isDone)
            {
                yield return chunks.Finish(FinishReason(OpenAIRequest.String(data["done_reason"]), calls > 0));
                if (Usage(data) is { } usage)
                {
                    yield return chunks.Usage(usage.Prompt, usage.Completion);
                }
                yield break;
            }
        }
        throw new IOException("the Ollama stream ended without its done line");
    }

    /// <summary>OpenAI embeddings request → <c>/api/embed</c> request.</summary>
    public static JsonObject TranslateEmbeddingsRequest(JsonObject openAI, string vendorModel)
    {
        var inputs = OpenAIRequest.EmbeddingInputs(openAI)
            ?? throw VendorError.BadRequest("Ollama embeds text: 'input' must be a string or an array of strings");
        var body = new JsonObject { ["model"] = vendorModel, ["input"] = new JsonArray([.. inputs.Select(i => (JsonNode)i)]) };
        if (OpenAIRequest.Number(openAI["dimensions"]) is { } dimensions)
        {
            body["dimensions"] = (int)dimensions;
        }
        return body;
    }

    /// <summary><c>{embeddings:[[…]], prompt_eval_count}</c> → OpenAI list, usage from <c>prompt_eval_count</c>.</summary>
    public static JsonObject TranslateEmbeddings(JsonObject response, JsonObject openAI, string model)
    {
        ThrowIfFailed(response);
        var vectors = new List<float[]>();
        foreach (var embedding in response["embeddings"] as JsonArray ?? [])
        {
            vectors.Add(EmbeddingsEncoding.Vector(embedding) ?? throw VendorError.Server("Ollama answered an embedding that is not a list of numbers"));
        }
        var prompt = OpenAIRequest.Number(response["prompt_eval_count"]);
        var body = EmbeddingsEncoding.Shape(openAI, model, vectors, (long)(prompt ?? 0));
        if (prompt is null)
        {
            body.Remove("usage"); // none reported: the gateway estimates
        }
        return body;
    }

    /// <summary>Ollama error (<c>{"error":"…"}</c>) → canonical error.</summary>
    public static VendorError MapError(int status, JsonNode? body, TimeSpan? retryAfter)
    {
        var text = body?["error"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject o when OpenAIRequest.String(o["message"]) is { } m => m,
            _ => VendorHttp.Describe(body, status),
        };
        var message = "Ollama: " + text;
        bool Says(string words) => text.Contains(words, StringComparison.OrdinalIgnoreCase);
        return status switch
        {
            // Ollama's cloud words an exhausted plan as a 429 "usage limit" (hourly, session, weekly): no quick retry helps.
            429 when Says("usage limit") => VendorError.Quota(message),
            404 or 200 or 400 or 500 when Says("not found") && (Says("model") || Says("pull")) => VendorError.NoModel(message),
            // An error line inside a 200 stream: the runner failed mid-way.
            200 => VendorError.Server(message),
            401 or 403 => new VendorError(status, VendorError.AuthFailed, message),
            _ => VendorError.ForStatus(status, message, retryAfter),
        };
    }
}
