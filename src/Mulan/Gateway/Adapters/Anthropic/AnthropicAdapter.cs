using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters.Anthropic;

/// <summary>
/// Anthropic Messages API (<c>POST {baseUrl}/messages</c>, <c>x-api-key</c>, <c>anthropic-version</c>).
/// System messages become the top-level <c>system</c>; tool calls become <c>tool_use</c> blocks and tool results
/// <c>tool_result</c> blocks in a user turn; the named stream events become OpenAI chunks.
/// </summary>
public sealed class AnthropicAdapter : IVendorAdapter
{
    public const string Version = "2023-06-01";

    /// <summary>Anthropic requires <c>max_tokens</c>; OpenAI clients often omit it.</summary>
    public const int DefaultMaxTokens = 4096;

    public WireProtocol Protocol => WireProtocol.Anthropic;

    public async Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct)
    {
        if (call.Request.Endpoint != GatewayEndpoint.ChatCompletions)
        {
            return VendorError.NotOffered("embeddings").ToResponse();
        }
        var body = TranslateRequest(call.Request.Body, call.Deployment.VendorModel, call.Request.Stream);
        var provider = call.Deployment.Provider;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(provider.BaseUrl.AbsoluteUri.TrimEnd('/') + "/messages"))
        {
            Content = VendorHttp.JsonContent(body),
        };
        request.Headers.TryAddWithoutValidation("x-api-key", provider.ApiKey ?? "");
        request.Headers.TryAddWithoutValidation("anthropic-version", Version);
        var response = await VendorHttp.SendAsync(call, request, ct);
        return await VendorHttp.AnswerAsync(call, response, MapError,
            call.Request.Stream ? body => TranslateStream(body, call.Request.Model, ct) : null,
            answer => TranslateResponse(answer, call.Request.Model), ct);
    }

    /// <summary>OpenAI chat request → Anthropic Messages request.</summary>
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
                    Append(messages, "user", UserBlocks(m["content"]));
                    break;
                case "assistant":
                    var blocks = new JsonArray();
                    if (OpenAIRequest.Text(m["content"]) is { Length: > 0 } said)
                    {
                        blocks.Add(new JsonObject { ["type"] = "text", ["text"] = said });
                    }
                    foreach (var (id, name, arguments) in OpenAIRequest.ToolCalls(m))
                    {
                        blocks.Add(new JsonObject { ["type"] = "tool_use", ["id"] = id, ["name"] = name, ["input"] = OpenAIRequest.Arguments(arguments) });
                    }
                    Append(messages, "assistant", blocks);
                    break;
                case "tool":
                    Append(messages, "user", new JsonArray(new JsonObject
                    {
                        ["type"] = "tool_result",
                        ["tool_use_id"] = OpenAIRequest.String(m["tool_call_id"]) ?? "",
                        ["content"] = OpenAIRequest.Text(m["content"]),
                    }));
                    break;
                default:
                    throw VendorError.BadRequest($"message role '{OpenAIRequest.String(m["role"])}' cannot be sent to Anthropic");
            }
        }
        var body = new JsonObject
        {
            ["model"] = vendorModel,
            ["max_tokens"] = OpenAIRequest.MaxTokens(openAI) ?? DefaultMaxTokens,
            ["messages"] = messages,
        };
        if (system.Count > 0)
        {
            body["system"] = string.Join("\n\n", system);
        }
        if (OpenAIRequest.Number(openAI["temperature"]) is { } temperature)
        {
            body["temperature"] = Math.Min(temperature, 1.0); // OpenAI allows up to 2, Anthropic up to 1
        }
        if (OpenAIRequest.Number(openAI["top_p"]) is { } topP)
        {
            body["top_p"] = topP;
        }
        if (OpenAIRequest.Stop(openAI) is { Count: > 0 } stop)
        {
            body["stop_sequences"] = new JsonArray([.. stop.Select(s => (JsonNode)s)]);
        }
        var tools = new JsonArray();
        foreach (var (name, description, parameters) in OpenAIRequest.Tools(openAI))
        {
            var tool = new JsonObject { ["name"] = name, ["input_schema"] = parameters ?? new JsonObject { ["type"] = "object" } };
            if (description is not null)
            {
                tool["description"] = description;
            }
            tools.Add(tool);
        }
        if (tools.Count > 0)
        {
            body["tools"] = tools;
            if (ToolChoice(openAI["tool_choice"]) is { } choice)
            {
                body["tool_choice"] = choice;
            }
        }
        if (OpenAIRequest.String(openAI["user"]) is { } user)
        {
            body["metadata"] = new JsonObject { ["user_id"] = user };
        }
        if (stream)
        {
            body["stream"] = true;
        }
        return body;
    }

    private static JsonObject? ToolChoice(JsonNode? choice) => choice switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s switch
        {
            "auto" => new JsonObject { ["type"] = "auto" },
            "required" => new JsonObject { ["type"] = "any" },
            "none" => new JsonObject { ["type"] = "none" },
            _ => null,
        },
        JsonObject o when o["function"] is JsonObject f && OpenAIRequest.String(f["name"]) is { } name => new JsonObject { ["type"] = "tool", ["name"] = name },
        _ => null,
    };

    private static JsonArray UserBlocks(JsonNode? content)
    {
        if (content is not JsonArray parts)
        {
            return new JsonArray(new JsonObject { ["type"] = "text", ["text"] = OpenAIRequest.Text(content) });
        }
        var blocks = new JsonArray();
        foreach (var part in parts.OfType<JsonObject>())
        {
            switch (OpenAIRequest.String(part["type"]))
            {
                case "text":
                    blocks.Add(new JsonObject { ["type"] = "text", ["text"] = OpenAIRequest.String(part["text"]) ?? "" });
                    break;
                case "image_url":
                    var url = OpenAIRequest.String(part["image_url"]?["url"]) ?? "";
                    blocks.Add(new JsonObject { ["type"] = "image", ["source"] = ImageSource(url) });
                    break;
                default:
                    throw VendorError.BadRequest($"content part '{OpenAIRequest.String(part["type"])}' cannot be sent to Anthropic");
            }
        }
        return blocks;
    }

    private static JsonObject ImageSource(string url)
    {
        // data:image/png;base64,AAAA → a base64 source; anything else is passed as a URL source.
        if (url.StartsWith("data:", StringComparison.Ordinal) && url.IndexOf(";base64,", StringComparison.Ordinal) is > 5 and var at)
        {
            return new JsonObject { ["type"] = "base64", ["media_type"] = url[5..at], ["data"] = url[(at + 8)..] };
        }
        return new JsonObject { ["type"] = "url", ["url"] = url };
    }

    // Anthropic wants user and assistant turns to alternate: consecutive turns of one role are merged.
    private static void Append(JsonArray messages, string role, JsonArray blocks)
    {
        if (blocks.Count == 0)
        {
            blocks.Add(new JsonObject { ["type"] = "text", ["text"] = "" });
        }
        OpenAIRequest.AppendTurn(messages, role, "content", blocks);
    }

    /// <summary>Anthropic message → OpenAI <c>chat.completion</c>.</summary>
    public static JsonObject TranslateResponse(JsonObject message, string model)
    {
        if (OpenAIRequest.String(message["type"]) == "error")
        {
            throw MapError(200, message, null);
        }
        string? text = null;
        var calls = new JsonArray();
        foreach (var block in message["content"] as JsonArray ?? [])
        {
            switch (OpenAIRequest.String(block?["type"]))
            {
                case "text":
                    text += OpenAIRequest.String(block!["text"]);
                    break;
                case "tool_use":
                    calls.Add(OpenAIShapes.ToolCall(OpenAIRequest.String(block!["id"]) ?? "", OpenAIRequest.String(block["name"]) ?? "",
                        block["input"]?.ToJsonString() ?? "{}"));
                    break;
            }
        }
        var (prompt, cached) = InputTokens(message["usage"]);
        var completion = (long)(OpenAIRequest.Number(message["usage"]?["output_tokens"]) ?? 0);
        return OpenAIShapes.Completion(OpenAIRequest.String(message["id"]) ?? "", model, text, calls,
            FinishReason(OpenAIRequest.String(message["stop_reason"])), OpenAIShapes.Usage(prompt, completion, cached));
    }

    /// <summary>Anthropic's input count excludes cache reads and writes; OpenAI's prompt_tokens includes them.</summary>
    private static (long Prompt, long Cached) InputTokens(JsonNode? usage)
    {
        var input = (long)(OpenAIRequest.Number(usage?["input_tokens"]) ?? 0);
        var read = (long)(OpenAIRequest.Number(usage?["cache_read_input_tokens"]) ?? 0);
        var written = (long)(OpenAIRequest.Number(usage?["cache_creation_input_tokens"]) ?? 0);
        return (input + read + written, read);
    }

    public static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>Anthropic's named events → OpenAI chunks, ending with a usage chunk at <c>message_stop</c>.</summary>
    public static async IAsyncEnumerable<OpenAIChunk> TranslateStream(Stream stream, string model, [EnumeratorCancellation] CancellationToken ct)
    {
        var chunks = new OpenAIChunks("", model);
        long prompt = 0, cached = 0, completion = 0;
        var stopReason = "stop";
        var toolIndex = -1;
        var blockIsTool = new Dictionary<int, int>();
        await foreach (var e in SseReader.ReadAsync(stream, ct))
        {
            if (e.Name == "content_block_delta" && Delta(e.Data, blockIsTool, chunks) is { } fast)
            {
                if (fast.Json.Length > 0)
                {
                    yield return fast;
                }
                continue;
            }
            var data = JsonNode.Parse(e.Data) as JsonObject;
            var type = e.Name ?? OpenAIRequest.String(data?["type"]);
            switch (type)
            {
                case "message_start":
                    chunks.Id = OpenAIRequest.String(data?["message"]?["id"]) ?? "";
                    (prompt, cached) = InputTokens(data?["message"]?["usage"]);
                    completion = (long)(OpenAIRequest.Number(data?["message"]?["usage"]?["output_tokens"]) ?? 0);
                    break;
                case "content_block_start":
                    var block = data?["content_block"];
                    var index = (int)(OpenAIRequest.Number(data?["index"]) ?? 0);
                    if (OpenAIRequest.String(block?["type"]) == "tool_use")
                    {
                        blockIsTool[index] = ++toolIndex;
                        yield return chunks.ToolCallStart(toolIndex, OpenAIRequest.String(block!["id"]) ?? "", OpenAIRequest.String(block["name"]) ?? "");
                    }
                    else if (OpenAIRequest.String(block?["type"]) == "text" && OpenAIRequest.String(block!["text"]) is { Length: > 0 } initial)
                    {
                        yield return chunks.Text(initial);
                    }
                    break;
                case "content_block_delta":
                    var delta = data?["delta"];
                    switch (OpenAIRequest.String(delta?["type"]))
                    {
                        case "text_delta":
                            yield return chunks.Text(OpenAIRequest.String(delta!["text"]) ?? "");
                            break;
                        case "input_json_delta" when blockIsTool.TryGetValue((int)(OpenAIRequest.Number(data?["index"]) ?? 0), out var call):
                            if (OpenAIRequest.String(delta!["partial_json"]) is { Length: > 0 } partial)
                            {
                                yield return chunks.ToolCallArguments(call, partial);
                            }
                            break;
                        case "thinking_delta":
                            yield return chunks.Reasoning(OpenAIRequest.String(delta!["thinking"]) ?? "");
                            break;
                    }
                    break;
                case "message_delta":
                    stopReason = FinishReason(OpenAIRequest.String(data?["delta"]?["stop_reason"]));
                    // Cumulative, and may restate the input count.
                    completion = (long)(OpenAIRequest.Number(data?["usage"]?["output_tokens"]) ?? completion);
                    if (data?["usage"]?["input_tokens"] is not null)
                    {
                        (prompt, cached) = InputTokens(data["usage"]);
                    }
                    break;
                case "message_stop":
                    yield return chunks.Finish(stopReason);
                    yield return chunks.Usage(prompt, completion, cached);
                    yield break;
                case "error":
                    throw MapError(200, data, null);
            }
        }
        throw new IOException("the Anthropic stream ended without message_stop");
    }

    private static readonly OpenAIChunk Nothing = new([]);

    /// <summary>
    /// The event that makes up nearly all of a stream, read without building a node tree (pooled parsing): the chunk
    /// it becomes, <see cref="Nothing"/> when it carries nothing to send, or null when it is not a plain text or tool
    /// argument delta (then the general path reads it).
    /// </summary>
    private static OpenAIChunk? Delta(string data, Dictionary<int, int> blockIsTool, OpenAIChunks chunks)
    {
        using var doc = JsonDocument.Parse(data);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("delta", out var delta) || delta.ValueKind != JsonValueKind.Object
            || !delta.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        if (type.ValueEquals("text_delta") && delta.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
        {
            return chunks.Text(text.GetString()!);
        }
        if (type.ValueEquals("input_json_delta") && delta.TryGetProperty("partial_json", out var partial) && partial.ValueKind == JsonValueKind.String
            && root.TryGetProperty("index", out var index) && index.TryGetInt32(out var i) && blockIsTool.TryGetValue(i, out var call))
        {
            var piece = partial.GetString()!;
            return piece.Length > 0 ? chunks.ToolCallArguments(call, piece) : Nothing;
        }
        return null;
    }

    /// <summary>Anthropic error (<c>{"type":"error","error":{"type","message"}}</c>) → canonical error.</summary>
    public static VendorError MapError(int status, JsonNode? body, TimeSpan? retryAfter)
    {
        var type = OpenAIRequest.String(body?["error"]?["type"]);
        var message = "Anthropic: " + (OpenAIRequest.String(body?["error"]?["message"]) ?? VendorHttp.Describe(body, status));
        return type switch
        {
            "rate_limit_error" => VendorError.RateLimit(message, retryAfter),
            "overloaded_error" => VendorError.Busy(message, retryAfter),
            "api_error" => VendorError.Server(message),
            "authentication_error" or "permission_error" => new VendorError(status is 401 or 403 ? status : 401, VendorError.AuthFailed, message),
            "billing_error" => VendorError.Quota(message),
            "not_found_error" => VendorError.NoModel(message),
            // Anthropic reports an empty prepaid balance as a 400 invalid_request_error.
            "invalid_request_error" when message.Contains("credit balance", StringComparison.OrdinalIgnoreCase) => VendorError.Quota(message),
            "invalid_request_error" when message.Contains("content filtering", StringComparison.OrdinalIgnoreCase) => VendorError.Filtered(message),
            "invalid_request_error" or "request_too_large" => new VendorError(status is >= 400 and < 500 ? status : 400, VendorError.InvalidRequest, message),
            _ => VendorError.ForStatus(status is 529 ? 503 : status >= 400 ? status : 502, message, retryAfter),
        };
    }
}
