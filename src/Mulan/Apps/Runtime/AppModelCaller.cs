using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Gateway;
using Mulan.Gateway.Wire;

namespace Mulan.Apps.Runtime;

/// <summary>What one model call made for an app cost and returned.</summary>
/// <param name="Error">the gateway's OpenAI error object when it refused or failed the call.</param>
/// <param name="RetryAfterSeconds">the gateway's Retry-After when it refused the call for a rate limit.</param>
public sealed record ModelCallResult(int Status, string Text, long PromptTokens, long CompletionTokens, decimal Cost, string? Currency, string RequestId,
    JsonObject? Error)
{
    public int? RetryAfterSeconds { get; init; }

    /// <summary>The tool calls the model asked for (OpenAI's <c>message.tool_calls</c>), when it asked for any.</summary>
    public JsonArray? ToolCalls { get; init; }
}

/// <summary>One event of a streamed model call: a text delta, or the end (with usage and cost, or an error).</summary>
public sealed record ModelStreamEvent(string? Delta, ModelCallResult? End);

/// <summary>
/// An app's model calls, made through the gateway's own pipeline in process: the request runs
/// <see cref="GatewayProxy.HandleAsync"/> exactly as a client's would (limits, budget reservation, PII guard, routing,
/// fallback, metering, one usage record), on the caller's key, attributed to the app. In process rather than over
/// loopback HTTP: no second connection, no re-authentication, and the key's secret is never needed.
/// </summary>
public sealed class AppModelCaller(IServiceProvider services)
{
    // GatewayProxy serves app requests through IAppModels, which calls back here: resolved on first use.
    private GatewayProxy Proxy => field ??= services.GetRequiredService<GatewayProxy>();

    public async Task<ModelCallResult> CompleteAsync(VirtualKey key, AppAttribution app, string route, JsonObject body, CancellationToken ct)
    {
        body["model"] = route;
        body.Remove("stream");
        var ctx = Context(key, app, route, body, ct);
        using var response = new MemoryStream();
        ctx.Response.Body = response;
        await Proxy.HandleAsync(ctx, GatewayEndpoint.ChatCompletions);
        var requestId = ctx.Response.Headers[GatewayProxy.RequestIdHeader].ToString();
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(response.ToArray()) as JsonObject;
        }
        catch (JsonException)
        {
            json = null;
        }
        if (ctx.Response.StatusCode != 200 || json is null)
        {
            return new ModelCallResult(ctx.Response.StatusCode == 200 ? 502 : ctx.Response.StatusCode, "", 0, 0, 0, null, requestId,
                json?["error"] as JsonObject ?? Failure("the model answered with something that is not a chat completion")) { RetryAfterSeconds = RetryAfter(ctx) };
        }
        var text = json["choices"]?[0]?["message"]?["content"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var (cost, currency) = Cost(ctx);
        return new ModelCallResult(200, text, Tokens(json["usage"], "prompt_tokens"), Tokens(json["usage"], "completion_tokens"), cost, currency, requestId, null)
        {
            ToolCalls = json["choices"]?[0]?["message"]?["tool_calls"] is JsonArray { Count: > 0 } calls ? (JsonArray)calls.DeepClone() : null,
        };
    }

    /// <summary>Streams the call: deltas as the vendor sends them, then one end event.</summary>
    public async IAsyncEnumerable<ModelStreamEvent> StreamAsync(VirtualKey key, AppAttribution app, string route, JsonObject body,
        [EnumeratorCancellation] CancellationToken ct)
    {
        body["model"] = route;
        body["stream"] = true;
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        var ctx = Context(key, app, route, body, ct);
        var pipe = new Pipe();
        var call = Proxy.HandlePipedAsync(ctx, GatewayEndpoint.ChatCompletions, pipe);
        var reader = pipe.Reader;
        long prompt = 0, completion = 0;
        JsonObject? error = null;
        var sawDone = false;
        var plain = new ArrayBufferWriter<byte>();
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            var buffer = read.Buffer;
            if (ctx.Response.StatusCode != 200)
            {
                // Refused before streaming (limits, budget, no deployment): the body is one error object.
                foreach (var segment in buffer)
                {
                    plain.Write(segment.Span);
                }
                reader.AdvanceTo(buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
                continue;
            }
            while (TryReadLine(ref buffer, out var line))
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }
                var data = line[6..];
                if (data == "[DONE]")
                {
                    sawDone = true;
                    continue;
                }
                JsonObject? chunk;
                try
                {
                    chunk = JsonNode.Parse(data) as JsonObject;
                }
                catch (JsonException)
                {
                    continue;
                }
                if (chunk?["error"] is JsonObject e)
                {
                    error = e;
                    continue;
                }
                if (chunk?["usage"] is JsonObject usage)
                {
                    prompt = Tokens(usage, "prompt_tokens");
                    completion = Tokens(usage, "completion_tokens");
                }
                if (chunk?["choices"] is JsonArray { Count: > 0 } choices && choices[0]?["delta"]?["content"] is JsonValue c && c.TryGetValue<string>(out var delta) && delta.Length > 0)
                {
                    yield return new ModelStreamEvent(delta, null);
                }
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }
        await reader.CompleteAsync();
        await call;
        var requestId = ctx.Response.Headers[GatewayProxy.RequestIdHeader].ToString();
        if (ctx.Response.StatusCode != 200)
        {
            JsonObject? refused = null;
            try
            {
                refused = JsonNode.Parse(plain.WrittenSpan)?["error"] as JsonObject;
            }
            catch (JsonException)
            {
                // reported as a failure below
            }
            yield return new ModelStreamEvent(null, new ModelCallResult(ctx.Response.StatusCode, "", 0, 0, 0, null, requestId,
                refused ?? Failure("the model call was refused")) { RetryAfterSeconds = RetryAfter(ctx) });
            yield break;
        }
        if (error is not null || !sawDone)
        {
            yield return new ModelStreamEvent(null, new ModelCallResult(502, "", prompt, completion, 0, null, requestId,
                error ?? Failure("the model's stream ended early")));
            yield break;
        }
        // A stream's cost is on its usage record (a stream has no trailing headers to carry it).
        yield return new ModelStreamEvent(null, new ModelCallResult(200, "", prompt, completion, 0, null, requestId, null));
    }

    private static DefaultHttpContext Context(VirtualKey key, AppAttribution app, string route, JsonObject body, CancellationToken ct)
    {
        var ctx = new DefaultHttpContext { RequestAborted = ct };
        ctx.Request.Method = HttpMethods.Post;
        ctx.Request.Path = "/v1/chat/completions";
        ctx.Request.ContentType = "application/json";
        // Chinese text as it is, not as \uXXXX escapes: the gateway reads it back at once.
        ctx.Request.Body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Serializer));
        ctx.Features.Set(new InProcessCall(key, app, route));
        return ctx;
    }

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

    private static (decimal Cost, string? Currency) Cost(HttpContext ctx) =>
        decimal.TryParse(ctx.Response.Headers["x-mulan-cost"].ToString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var cost)
            ? (cost, ctx.Response.Headers["x-mulan-cost-currency"].ToString() is { Length: > 0 } c ? c : null)
            : (0m, null);

    private static int? RetryAfter(HttpContext ctx) =>
        int.TryParse(ctx.Response.Headers.RetryAfter.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;

    private static long Tokens(JsonNode? usage, string name) =>
        usage?[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0;

    private static JsonObject Failure(string message) => new() { ["message"] = message, ["type"] = "upstream_error" };
}
