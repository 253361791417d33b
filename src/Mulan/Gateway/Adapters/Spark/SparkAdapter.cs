using System.Collections.Frozen;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters.Spark;

/// <summary>
/// iFlytek Spark over WebSocket (<c>wss://spark-api.xf-yun.com/{version path}</c>, one request per connection,
/// credentials signed into the handshake URL by <see cref="SparkUrlSigner"/>). The provider's <c>apiKey</c> holds
/// <c>APPID:APIKey:APISecret</c>; the deployment's model is the Spark <c>domain</c>, which also picks the URL path.
/// The answer comes as frames until <c>header.status</c> 2 (usage only there); errors are frames with a non-zero
/// <c>header.code</c>. Non-streaming requests collect the frames into one <c>chat.completion</c>.
/// </summary>
public sealed class SparkAdapter(TimeProvider time) : IVendorAdapter
{
    /// <summary>Spark domain → URL path, as iFlytek's Web API documentation lists them.</summary>
    public static readonly FrozenDictionary<string, string> Paths = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["lite"] = "/v1.1/chat",
        ["generalv3"] = "/v3.1/chat",
        ["pro-128k"] = "/chat/pro-128k",
        ["generalv3.5"] = "/v3.5/chat",
        ["max-32k"] = "/chat/max-32k",
        ["4.0Ultra"] = "/v4.0/chat",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Spark's <c>uid</c> is at most 32 characters.</summary>
    public const int MaxUidLength = 32;

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    public WireProtocol Protocol => WireProtocol.Spark;

    public async Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct)
    {
        if (call.Request.Endpoint != GatewayEndpoint.ChatCompletions)
        {
            return VendorError.NotOffered("embeddings").ToResponse();
        }
        var (appId, apiKey, apiSecret) = Credentials(call.Deployment.Provider.ApiKey);
        var path = PathFor(call.Deployment.Provider.BaseUrl, call.Deployment.VendorModel);
        var frame = JsonSerializer.SerializeToUtf8Bytes(TranslateRequest(call.Request.Body, call.Deployment.VendorModel, appId), WireJson.Serializer);
        var uri = SparkUrlSigner.SignedUri(SocketBase(call.Deployment.Provider.BaseUrl), path, apiKey, apiSecret, SparkUrlSigner.Date(time.GetUtcNow()));
        var socket = new ClientWebSocket();
        try
        {
            await ConnectAsync(socket, uri, call, ct);
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        catch (VendorError e)
        {
            socket.Dispose();
            return e.ToResponse();
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var limit = (int)Math.Min(call.MaxResponseBytes, int.MaxValue);
        var chunks = TranslateStream(ReadFramesAsync(socket, limit, ct), call.Request.Model, ct);
        if (call.Request.Stream)
        {
            return await AdapterResponse.StreamAsync(chunks, socket, ct);
        }
        using (socket)
        {
            try
            {
                return AdapterResponse.Json(await CollectAsync(chunks, call.Request.Model, ct));
            }
            catch (VendorError e)
            {
                return e.ToResponse();
            }
        }
    }

    /// <summary>Splits the provider key <c>APPID:APIKey:APISecret</c>.</summary>
    /// <exception cref="VendorError">the key does not have exactly three non-empty parts (the key itself is never quoted).</exception>
    public static (string AppId, string ApiKey, string ApiSecret) Credentials(string? providerKey) => SparkUrlSigner.Credentials(providerKey, "Spark");

    /// <summary>The request path for a vendor model: its domain is the part before the first '+'.</summary>
    /// <exception cref="VendorError">the domain is not one Spark serves over WebSocket.</exception>
    public static string PathFor(Uri baseUrl, string vendorModel)
    {
        var plus = vendorModel.IndexOf('+', StringComparison.Ordinal);
        var domain = plus < 0 ? vendorModel : vendorModel[..plus];
        if (!Paths.TryGetValue(domain, out var path))
        {
            throw VendorError.NoModel($"Spark has no WebSocket domain '{domain}' (known: {string.Join(", ", Paths.Keys)})");
        }
        return baseUrl.AbsolutePath.TrimEnd('/') + path;
    }

    /// <summary><c>https://host</c> → <c>wss://host</c>, <c>http://host:port</c> → <c>ws://host:port</c>.</summary>
    public static Uri SocketBase(Uri baseUrl) =>
        new($"{(baseUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws")}://{baseUrl.Authority}");

    private async Task ConnectAsync(ClientWebSocket socket, Uri uri, AdapterCall call, CancellationToken ct)
    {
        VendorSocket.Prepare(socket, call.RequestId, call.Deployment.Provider.Headers);
        using var timeout = new CancellationTokenSource(call.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await socket.ConnectAsync(uri, linked.Token);
        }
        catch (WebSocketException) when ((int)socket.HttpStatusCode >= 400)
        {
            throw HandshakeError((int)socket.HttpStatusCode);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"the Spark handshake did not complete within {call.ConnectTimeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>A refused handshake: iFlytek answers a bad signature with 401 and a clock skew or IP whitelist with 403.</summary>
    public static VendorError HandshakeError(int status) => status switch
    {
        401 or 403 => new VendorError(status, VendorError.AuthFailed,
            $"Spark refused the signed handshake (HTTP {status}): check the provider's APPID:APIKey:APISecret and the gateway's clock"),
        _ => VendorError.ForStatus(status, $"Spark refused the handshake (HTTP {status})"),
    };

    /// <summary>
    /// OpenAI chat request → Spark request frame. Spark has no tool role and no tool calls in its history, so the
    /// mapping is lossy: an assistant's tool calls become assistant text (<c>Calling tool NAME with arguments {…}</c>)
    /// and a tool result becomes user text (<c>Tool NAME returned: …</c>); turns of one role in a row are merged.
    /// </summary>
    public static JsonObject TranslateRequest(JsonObject openAI, string vendorModel, string appId)
    {
        var system = new List<string>();
        var text = new JsonArray();
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in openAI["messages"]!.AsArray())
        {
            var m = node!.AsObject();
            switch (OpenAIRequest.String(m["role"]))
            {
                case "system" or "developer":
                    system.Add(OpenAIRequest.Text(m["content"]));
                    break;
                case "user":
                    if (m["content"] is JsonArray parts && parts.Any(p => OpenAIRequest.String(p?["type"]) is not ("text" or null)))
                    {
                        throw VendorError.BadRequest("Spark accepts text only; image and other content parts cannot be sent to it");
                    }
                    Append(text, "user", OpenAIRequest.Text(m["content"]));
                    break;
                case "assistant":
                    var said = new List<string>();
                    if (OpenAIRequest.Text(m["content"]) is { Length: > 0 } content)
                    {
                        said.Add(content);
                    }
                    foreach (var (id, name, arguments) in OpenAIRequest.ToolCalls(m))
                    {
                        toolNames[id] = name;
                        said.Add($"Calling tool {name} with arguments {arguments}");
                    }
                    Append(text, "assistant", string.Join("\n", said));
                    break;
                case "tool":
                    var callId = OpenAIRequest.String(m["tool_call_id"]) ?? "";
                    var tool = toolNames.GetValueOrDefault(callId, callId.Length > 0 ? callId : "tool");
                    Append(text, "user", $"Tool {tool} returned: {OpenAIRequest.Text(m["content"])}");
                    break;
                default:
                    throw VendorError.BadRequest($"message role '{OpenAIRequest.String(m["role"])}' cannot be sent to Spark");
            }
        }
        if (system.Count > 0)
        {
            text.Insert(0, new JsonObject { ["role"] = "system", ["content"] = string.Join("\n\n", system) });
        }
        var header = new JsonObject { ["app_id"] = appId };
        if (OpenAIRequest.String(openAI["user"]) is { Length: > 0 } user)
        {
            header["uid"] = user.Length > MaxUidLength ? user[..MaxUidLength] : user;
        }
        var chat = new JsonObject { ["domain"] = vendorModel };
        if (OpenAIRequest.Number(openAI["temperature"]) is { } temperature)
        {
            chat["temperature"] = Math.Min(temperature, 1.0); // OpenAI allows up to 2, Spark documents up to 1
        }
        if (OpenAIRequest.MaxTokens(openAI) is { } maxTokens)
        {
            chat["max_tokens"] = maxTokens;
        }
        var payload = new JsonObject { ["message"] = new JsonObject { ["text"] = text } };
        // Spark has no tool_choice: "none" is honoured by not offering the functions; a forced choice cannot be expressed.
        if (OpenAIRequest.String(openAI["tool_choice"]) != "none")
        {
            var functions = new JsonArray();
            foreach (var (name, description, parameters) in OpenAIRequest.Tools(openAI))
            {
                functions.Add(new JsonObject
                {
                    ["name"] = name,
                    ["description"] = description ?? "",
                    ["parameters"] = parameters ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
                });
            }
            if (functions.Count > 0)
            {
                payload["functions"] = new JsonObject { ["text"] = functions };
            }
        }
        return new JsonObject
        {
            ["header"] = header,
            ["parameter"] = new JsonObject { ["chat"] = chat },
            ["payload"] = payload,
        };
    }

    private static void Append(JsonArray text, string role, string content)
    {
        if (text.Count > 0 && text[^1] is JsonObject last && OpenAIRequest.String(last["role"]) == role)
        {
            last["content"] = OpenAIRequest.String(last["content"]) + "\n\n" + content;
            return;
        }
        text.Add(new JsonObject { ["role"] = role, ["content"] = content });
    }

    /// <summary>The text messages of the socket until it closes; a frame larger than <paramref name="limit"/> is refused.</summary>
    public static async IAsyncEnumerable<string> ReadFramesAsync(WebSocket socket, int limit, [EnumeratorCancellation] CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                message.SetLength(0);
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer.AsMemory(), ct);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        yield break;
                    }
                    message.Write(buffer, 0, received.Count);
                    if (message.Length > limit)
                    {
                        throw new IOException($"a Spark frame exceeded {limit} bytes");
                    }
                }
                while (!received.EndOfMessage);
                yield return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
        finally
        {
            await CloseAsync(socket);
        }
    }

    // Sends our close frame without waiting for the server's: the answer is complete (or abandoned) either way.
    private static async Task CloseAsync(WebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is going away regardless; disposing it aborts what is left.
        }
    }

    /// <summary>
    /// Spark response frames → OpenAI chunks. Text pieces become content deltas; a <c>function_call</c> arrives
    /// whole, so it becomes one tool-call start carrying all its arguments. The frame with <c>header.status</c> 2
    /// ends the answer: finish reason, then the usage found only there.
    /// </summary>
    /// <exception cref="VendorError">a frame carries a non-zero <c>header.code</c>.</exception>
    /// <exception cref="IOException">the socket closed before the status-2 frame.</exception>
    public static async IAsyncEnumerable<OpenAIChunk> TranslateStream(IAsyncEnumerable<string> frames, string model, [EnumeratorCancellation] CancellationToken ct)
    {
        var chunks = new OpenAIChunks("", model);
        var calls = 0;
        await foreach (var text in frames.WithCancellation(ct))
        {
            var frame = JsonNode.Parse(text) as JsonObject ?? throw VendorError.Server("Spark sent a frame that is not a JSON object");
            var header = frame["header"];
            var code = (int)(OpenAIRequest.Number(header?["code"]) ?? 0);
            if (code != 0)
            {
                throw MapError(code, OpenAIRequest.String(header?["message"]));
            }
            var sid = OpenAIRequest.String(header?["sid"]) ?? "";
            if (chunks.Id.Length == 0)
            {
                chunks.Id = sid;
            }
            foreach (var item in frame["payload"]?["choices"]?["text"] as JsonArray ?? [])
            {
                if (OpenAIRequest.String(item?["content"]) is { Length: > 0 } content)
                {
                    yield return chunks.Text(content);
                }
                if (item?["function_call"] is JsonObject call)
                {
                    yield return chunks.ToolCallStart(calls, $"call_{sid}_{calls}", OpenAIRequest.String(call["name"]) ?? "",
                        OpenAIRequest.String(call["arguments"]) ?? "{}");
                    calls++;
                }
            }
            if (OpenAIRequest.Number(header?["status"]) == 2)
            {
                yield return chunks.Finish(calls > 0 ? "tool_calls" : "stop");
                // Without usage the gateway estimates from the relayed text rather than record zeros as reported.
                if (frame["payload"]?["usage"]?["text"] is JsonObject usage)
                {
                    yield return chunks.Usage((long)(OpenAIRequest.Number(usage["prompt_tokens"]) ?? 0), (long)(OpenAIRequest.Number(usage["completion_tokens"]) ?? 0));
                }
                yield break;
            }
        }
        throw new IOException("the Spark socket closed before the last frame (header.status 2)");
    }

    /// <summary>Folds translated chunks into one <c>chat.completion</c> (for a client that did not stream).</summary>
    public static async Task<JsonObject> CollectAsync(IAsyncEnumerable<OpenAIChunk> chunks, string model, CancellationToken ct)
    {
        var id = "";
        var text = new StringBuilder();
        var calls = new JsonArray();
        var finish = "stop";
        JsonObject? usage = null;
        await foreach (var translated in chunks.WithCancellation(ct))
        {
            var chunk = translated.ToNode();
            id = OpenAIRequest.String(chunk["id"]) ?? id;
            if (chunk["usage"] is JsonObject u)
            {
                usage = (JsonObject)u.DeepClone();
            }
            if (chunk["choices"] is not JsonArray { Count: > 0 } choices || choices[0] is not JsonObject choice)
            {
                continue;
            }
            if (OpenAIRequest.String(choice["finish_reason"]) is { } reason)
            {
                finish = reason;
            }
            var delta = choice["delta"];
            text.Append(OpenAIRequest.String(delta?["content"]));
            foreach (var call in delta?["tool_calls"] as JsonArray ?? [])
            {
                calls.Add(OpenAIShapes.ToolCall(OpenAIRequest.String(call?["id"]) ?? "", OpenAIRequest.String(call?["function"]?["name"]) ?? "",
                    OpenAIRequest.String(call?["function"]?["arguments"]) ?? "{}"));
            }
        }
        var completion = OpenAIShapes.Completion(id, model, calls.Count > 0 && text.Length == 0 ? null : text.ToString(), calls, finish, usage ?? new JsonObject());
        if (usage is null)
        {
            completion.Remove("usage");
        }
        return completion;
    }

    /// <summary>A Spark <c>header.code</c> → canonical error (iFlytek's error table).</summary>
    public static VendorError MapError(int code, string? message)
    {
        var text = $"Spark: {message ?? "error"} (code {code})";
        return code switch
        {
            10013 or 10014 or 10019 => VendorError.Filtered(text),
            // 11200 covers both "not authorized for this capability" and "the licensed volume is used up".
            11200 when VolumeExhausted(message) => VendorError.Quota(text),
            11200 => VendorError.Auth(text),
            11201 => VendorError.Quota(text),
            11202 or 11203 => VendorError.RateLimit(text),
            // 10907: too many tokens; 10163: iFlytek's "missing or invalid parameter".
            10907 or 10163 => VendorError.BadRequest(text),
            _ => VendorError.Server(text),
        };
    }

    private static readonly string[] VolumeWords = ["limit", "exceed", "exhaust", "volume", "not enough", "no enough", "insufficient"];

    private static bool VolumeExhausted(string? message) =>
        message is not null && VolumeWords.Any(word => message.Contains(word, StringComparison.OrdinalIgnoreCase));
}
