using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Mulan.Apps;
using Mulan.Apps.Runtime;
using Mulan.Gateway;
using Mulan.Gateway.Wire;

namespace Mulan.Console.Chat;

/// <summary>What the chat page sends: the user's message in a conversation (new when no id).</summary>
/// <param name="Pinned">an unpublished version being tried, or null for the published one.</param>
public sealed record ChatMessage(PublishedApp App, string EndUser, string Text, string? ConversationId, PublishedApp? Pinned);

/// <summary>
/// Sends a chat page message to the app as a client of the gateway would: a streamed <c>app:&lt;slug&gt;</c> chat
/// completion on the workspace's console key, the chatting user as its <c>user</c>, run in process through
/// <see cref="GatewayProxy.HandleAsync"/> (authentication, limits, metering, one ledger). The OpenAI chunks are relayed
/// as they come, in the page's simpler events (docs/chat.md): <c>delta</c>, <c>step</c>, then <c>done</c> with the
/// citations and the conversation id, or <c>error</c>. A refusal before the stream starts keeps its status (429, 400, 404).
/// </summary>
public sealed class ChatRelay(IServiceProvider services, ConsoleServiceKey keys)
{
    private GatewayProxy Proxy => field ??= services.GetRequiredService<GatewayProxy>();

    public async Task RelayAsync(HttpContext client, ChatMessage message)
    {
        var body = new JsonObject
        {
            ["model"] = IAppModels.Prefix + message.App.App.Slug,
            ["stream"] = true,
            ["user"] = message.EndUser,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = message.Text }),
        };
        if (message.ConversationId is { } cid)
        {
            body["conversation_id"] = cid;
        }
        var ct = client.RequestAborted;
        var ctx = new DefaultHttpContext { RequestServices = services, RequestAborted = ct };
        ctx.Request.Method = HttpMethods.Post;
        ctx.Request.Path = "/v1/chat/completions";
        ctx.Request.ContentType = "application/json";
        ctx.Request.Headers.Authorization = "Bearer " + keys.BearerFor(message.App.App.WorkspaceId);
        ctx.Request.Body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Serializer));
        if (message.Pinned is { } pinned)
        {
            ctx.Features.Set(new PinnedAppVersion(pinned));
        }
        var pipe = new Pipe();
        var call = Proxy.HandlePipedAsync(ctx, GatewayEndpoint.ChatCompletions, pipe);
        try
        {
            await CopyAsync(client, ctx, pipe.Reader, ct);
        }
        finally
        {
            await pipe.Reader.CompleteAsync();
            await call;
        }
    }

    private static async Task CopyAsync(HttpContext client, HttpContext ctx, PipeReader reader, CancellationToken ct)
    {
        var refused = new ArrayBufferWriter<byte>();
        var started = false;
        JsonObject? extras = null;
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            var buffer = read.Buffer;
            if (ctx.Response.StatusCode != 200)
            {
                // Refused before streaming (rate limit, PII, unknown conversation, budget): one error object.
                foreach (var segment in buffer)
                {
                    refused.Write(segment.Span);
                }
                reader.AdvanceTo(buffer.End);
            }
            else
            {
                while (TryReadLine(ref buffer, out var line))
                {
                    if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    if (!started)
                    {
                        started = true;
                        Start(client);
                    }
                    var data = line[6..];
                    if (data == "[DONE]")
                    {
                        await SendAsync(client, "done", Done(ctx, extras), ct);
                        continue;
                    }
                    if (Parse(data) is not { } chunk)
                    {
                        continue;
                    }
                    if (chunk["error"] is JsonObject error)
                    {
                        await SendAsync(client, "error", new JsonObject { ["message"] = Text(error["message"]) ?? "the answer broke off", ["code"] = Text(error["code"]) }, ct);
                        continue;
                    }
                    if (chunk["mulan_step"] is JsonObject step)
                    {
                        await SendAsync(client, "step", (JsonObject)step.DeepClone(), ct);
                    }
                    if (chunk["conversation_id"] is not null)
                    {
                        extras = chunk;
                    }
                    if (chunk["choices"] is JsonArray { Count: > 0 } choices && Text(choices[0]?["delta"]?["content"]) is { Length: > 0 } delta)
                    {
                        await SendAsync(client, "delta", new JsonObject { ["text"] = delta }, ct);
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (read.IsCompleted)
            {
                break;
            }
        }
        if (!started)
        {
            await RefuseAsync(client, ctx, refused.WrittenMemory);
        }
    }

    private static void Start(HttpContext client)
    {
        client.Response.StatusCode = 200;
        client.Response.ContentType = "text/event-stream; charset=utf-8";
        client.Response.Headers.CacheControl = "no-cache";
        client.Response.Headers["X-Accel-Buffering"] = "no";
        client.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>The end: the request id (for feedback), the conversation id and the citations, without their passages'
    /// text (the page opens a passage when asked, <c>GET /api/chat/{slug}/passages/{id}</c>).</summary>
    private static JsonObject Done(HttpContext ctx, JsonObject? extras) => new()
    {
        ["requestId"] = ctx.Response.Headers[GatewayProxy.RequestIdHeader].ToString(),
        ["conversationId"] = Text(extras?["conversation_id"]),
        ["appVersion"] = extras?["app_version"]?.DeepClone(),
        ["found"] = extras?["found"]?.DeepClone(),
        ["citations"] = Citations(extras?["citations"]),
    };

    /// <summary>Citations as the page shows them: marker, passage id, document and place, never the stored text.</summary>
    public static JsonArray Citations(JsonNode? citations) =>
        [.. (citations as JsonArray ?? []).OfType<JsonObject>().Select(c => (JsonNode)new JsonObject
        {
            ["marker"] = c["marker"]?.DeepClone(),
            ["passageId"] = c["chunkId"]?.DeepClone(),
            ["documentId"] = c["documentId"]?.DeepClone(),
            ["title"] = c["title"]?.DeepClone(),
            ["section"] = c["section"]?.DeepClone(),
            ["page"] = c["page"]?.DeepClone(),
        })];

    private static async Task RefuseAsync(HttpContext client, HttpContext ctx, ReadOnlyMemory<byte> body)
    {
        var status = ctx.Response.StatusCode == 200 ? 502 : ctx.Response.StatusCode;
        var error = (Parse(Encoding.UTF8.GetString(body.Span)) ?? [])["error"] as JsonObject;
        if (ctx.Response.Headers.RetryAfter.ToString() is { Length: > 0 } retry)
        {
            client.Response.Headers.RetryAfter = retry;
        }
        var problem = TypedResults.Problem(statusCode: status, detail: Text(error?["message"]) ?? "The app did not answer.",
            extensions: Text(error?["code"]) is { } code ? new Dictionary<string, object?> { ["code"] = code } : null);
        await problem.ExecuteAsync(client);
    }

    private static async Task SendAsync(HttpContext client, string name, JsonObject data, CancellationToken ct)
    {
        await client.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString(WireJson.Serializer)}\n\n", ct);
        await client.Response.Body.FlushAsync(ct);
    }

    private static JsonObject? Parse(string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out string line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = "";
            return false;
        }
        line = Encoding.UTF8.GetString(buffer.Slice(0, end)).TrimEnd('\r');
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        return true;
    }
}
