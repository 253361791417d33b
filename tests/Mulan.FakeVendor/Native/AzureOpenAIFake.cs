using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Azure OpenAI: <c>POST /openai/deployments/{deployment}/chat/completions?api-version=…</c> (and <c>/embeddings</c>)
/// with the <c>api-key</c> header. OpenAI's wire format with Azure's additions: a first stream chunk with empty
/// <c>choices</c> and <c>prompt_filter_results</c>, <c>content_filter_results</c> on every choice, a usage chunk only
/// when <c>stream_options.include_usage</c> asks for it. The deployment in the path is the model (a body
/// <c>model</c> is ignored); a missing or unknown <c>api-version</c> is Azure's 404 "Resource not found"; errors are
/// Azure's (<c>content_filter</c> 400 with <c>innererror</c>, <c>DeploymentNotFound</c>, 401 "Access denied").
/// Embeddings reuse the OpenAI fake's handler with the deployment as the model.
/// </summary>
internal sealed partial class AzureOpenAIFake : NativeProtocol
{
    /// <summary>Data-plane versions the fake accepts (GA and previews Azure has published).</summary>
    public static readonly FrozenSet<string> ApiVersions = FrozenSet.Create(StringComparer.Ordinal,
        "2024-02-01", "2024-06-01", "2024-10-21", "2024-12-01-preview", "2025-01-01-preview", "2025-03-01-preview");

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The turn of a request → whether it asked for the usage chunk (NativeTurn is shared and has no room for it).
    private static readonly ConditionalWeakTable<NativeTurn, object> WantsUsage = [];

    [GeneratedRegex("^/openai/deployments/(?<deployment>[^/]+)/(?<operation>chat/completions|embeddings)$")]
    private static partial Regex Route();

    public override bool Serves(HttpRequest request) => HttpMethods.IsPost(request.Method) && Route().IsMatch(request.Path.Value ?? "");

    public override async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var route = Route().Match(context.Request.Path.Value ?? "");
        var deployment = route.Groups["deployment"].Value;
        var embeddings = route.Groups["operation"].Value == "embeddings";
        if (!ApiVersions.Contains(context.Request.Query["api-version"].ToString()))
        {
            state.BillFailed(context, state.NextId(embeddings ? "emb-" : "native-"), embeddings ? "embeddings" : "chat", deployment);
            await WriteAsync(context, 404, new JsonObject { ["code"] = "404", ["message"] = "Resource not found" });
            return;
        }
        if (embeddings)
        {
            await EmbeddingsAsync(context, state, body, deployment);
            return;
        }
        await base.HandleAsync(context, state, body);
    }

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => Http.Header(context, "api-key") == state.ApiKey;

    /// <summary>The OpenAI embeddings handler, with the deployment as the model and Azure's words for the failures it would answer.</summary>
    private async Task EmbeddingsAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body, string deployment)
    {
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(body.Span) as JsonObject;
        }
        catch (JsonException)
        {
            request = null;
        }
        var refusal = !Authorized(context, body, state) ? (FakeErrorKind.Auth, 401)
            : request is null ? (FakeErrorKind.BadRequest, 400)
            : !ModelSpec.TryParse(deployment, out var spec, out _) ? (FakeErrorKind.BadRequest, 400)
            : spec.FailStatus is { } code ? (KindOf(code), code)
            : spec.Quota ? (FakeErrorKind.Quota, 429)
            : ((FakeErrorKind, int)?)null;
        if (refusal is { } r)
        {
            state.BillFailed(context, state.NextId("emb-"), "embeddings", deployment);
            await WriteErrorAsync(context, r.Item1, r.Item2, request is null ? "The request body is not valid JSON." : $"Invalid deployment options in '{deployment}'.", r.Item2 == 429 ? 1 : null);
            return;
        }
        request!["model"] = deployment;
        await EmbeddingsHandler.HandleAsync(context, state, JsonSerializer.SerializeToUtf8Bytes(request, Relaxed));
    }

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("messages", out var messages)
                || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            {
                error = "'messages' is a required property";
                return null;
            }
            if (root.TryGetProperty("temperature", out var t) && (t.ValueKind != JsonValueKind.Number || t.GetDouble() is < 0 or > 2))
            {
                error = $"{t.GetRawText()} is greater than the maximum of 2 - 'temperature'";
                return null;
            }
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var usage = root.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
            JsonElement? tools = root.TryGetProperty("tools", out var list) ? list : null;
            var deployment = Route().Match(context.Request.Path.Value ?? "").Groups["deployment"].Value;
            var turn = new NativeTurn(deployment, stream, PromptTokenCounter.Count(messages, tools), NativeTurn.Seed(body.Span));
            if (usage)
            {
                WantsUsage.AddOrUpdate(turn, true);
            }
            return turn;
        }
        catch (JsonException)
        {
            error = "We could not parse the JSON body of your request.";
            return null;
        }
    }

    protected override async Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds)
    {
        var version = context.Request.Query["api-version"].ToString();
        var (code, error) = kind switch
        {
            FakeErrorKind.Auth => (401, new JsonObject
            {
                ["code"] = "401",
                ["message"] = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
            }),
            FakeErrorKind.RateLimit => (429, new JsonObject
            {
                ["code"] = "429",
                ["message"] = $"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {version} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after {retryAfterSeconds ?? 1} second. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
            }),
            FakeErrorKind.Quota => (429, new JsonObject
            {
                ["message"] = "You exceeded your current quota, please check your plan and billing details.",
                ["type"] = "insufficient_quota",
                ["param"] = null,
                ["code"] = "insufficient_quota",
            }),
            FakeErrorKind.ContentFilter => (400, ContentFilterError()),
            FakeErrorKind.Overloaded => (503, new JsonObject
            {
                ["code"] = "ServiceUnavailable",
                ["message"] = "The service is temporarily unable to process your request. Please try again later.",
            }),
            FakeErrorKind.Server => (status is >= 500 ? status : 500, new JsonObject
            {
                ["message"] = "The server had an error processing your request. Sorry about that! You can retry your request, or contact us through an Azure support request if you keep seeing this error.",
                ["type"] = "server_error",
                ["param"] = null,
                ["code"] = null,
            }),
            _ when status == 404 => (404, new JsonObject
            {
                ["code"] = "DeploymentNotFound",
                ["message"] = "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
            }),
            _ => (400, new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = null, ["code"] = null }),
        };
        if (retryAfterSeconds is { } after)
        {
            context.Response.Headers.RetryAfter = after.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["retry-after-ms"] = (after * 1000).ToString(CultureInfo.InvariantCulture);
        }
        await WriteAsync(context, code, error);
    }

    private static JsonObject ContentFilterError() => new()
    {
        ["message"] = "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        ["type"] = null,
        ["param"] = "prompt",
        ["code"] = "content_filter",
        ["status"] = 400,
        ["innererror"] = new JsonObject
        {
            ["code"] = "ResponsibleAIPolicyViolation",
            ["content_filter_result"] = FilterResults(violence: true),
        },
    };

    private static JsonObject FilterResults(bool violence = false) => new()
    {
        ["hate"] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" },
        ["self_harm"] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" },
        ["sexual"] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" },
        ["violence"] = new JsonObject { ["filtered"] = violence, ["severity"] = violence ? "medium" : "safe" },
    };

    private static JsonArray PromptFilterResults() => new(new JsonObject { ["prompt_index"] = 0, ["content_filter_results"] = FilterResults() });

    private static async Task WriteAsync(HttpContext context, int status, JsonObject error)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["error"] = error }.ToJsonString(Relaxed));
    }

    private static string CompletionId(string id) => "chatcmpl-" + id[(id.IndexOf('-', StringComparison.Ordinal) + 1)..];

    private static string CallId(string id, int index) => $"call_{id[(id.IndexOf('-', StringComparison.Ordinal) + 1)..]}_{index}";

    protected override byte[] Completion(string id, NativeReply reply)
    {
        var message = new JsonObject { ["content"] = reply.Tools ? null : reply.Text, ["refusal"] = null, ["role"] = "assistant" };
        if (reply.Tools)
        {
            var calls = new JsonArray();
            for (var i = 0; i < NativeReply.ToolCalls.Count; i++)
            {
                var (name, arguments) = NativeReply.ToolCalls[i];
                calls.Add(new JsonObject
                {
                    ["function"] = new JsonObject { ["arguments"] = arguments, ["name"] = name },
                    ["id"] = CallId(id, i),
                    ["type"] = "function",
                });
            }
            message["tool_calls"] = calls;
        }
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject
            {
                ["content_filter_results"] = reply.Tools ? new JsonObject() : FilterResults(),
                ["finish_reason"] = reply.Tools ? "tool_calls" : "stop",
                ["index"] = 0,
                ["logprobs"] = null,
                ["message"] = message,
            }),
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["id"] = CompletionId(id),
            ["model"] = reply.Turn.Model,
            ["object"] = "chat.completion",
            ["prompt_filter_results"] = PromptFilterResults(),
            ["system_fingerprint"] = "fp_fake",
            ["usage"] = Usage(reply.Turn.PromptTokens, reply.CompletionTokens),
        }, Relaxed);
    }

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["completion_tokens"] = completion,
        ["prompt_tokens"] = prompt,
        ["total_tokens"] = prompt + completion,
    };

    protected override string StreamContentType => "text/event-stream; charset=utf-8";

    // Azure's first event reports the prompt filter with empty choices and blank id, model and object.
    protected override byte[] StreamStart(string id, NativeReply reply) =>
    [
        .. Data(new JsonObject
        {
            ["choices"] = new JsonArray(),
            ["created"] = 0,
            ["id"] = "",
            ["model"] = "",
            ["object"] = "",
            ["prompt_filter_results"] = PromptFilterResults(),
        }),
        .. Chunk(id, reply, new JsonObject { ["content"] = "", ["refusal"] = null, ["role"] = "assistant" }, null, new JsonObject()),
    ];

    protected override byte[] TextFrame(string id, NativeReply reply, int index) =>
        Chunk(id, reply, new JsonObject { ["content"] = reply.Words[index] }, null, FilterResults());

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call)
    {
        var (name, _) = NativeReply.ToolCalls[call];
        yield return (Chunk(id, reply, ToolDelta(new JsonObject
        {
            ["index"] = call,
            ["id"] = CallId(id, call),
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "" },
        }), null, new JsonObject()), NativeReply.NameTokens(call));
        foreach (var piece in NativeReply.ArgumentPieces(call))
        {
            yield return (Chunk(id, reply, ToolDelta(new JsonObject { ["index"] = call, ["function"] = new JsonObject { ["arguments"] = piece } }), null, new JsonObject()), 1);
        }
    }

    private static JsonObject ToolDelta(JsonObject call) => new() { ["tool_calls"] = new JsonArray(call) };

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens)
    {
        byte[] end = [.. Chunk(id, reply, new JsonObject(), reply.Tools ? "tool_calls" : "stop", new JsonObject())];
        if (WantsUsage.TryGetValue(reply.Turn, out _))
        {
            end = [.. end, .. Data(new JsonObject
            {
                ["choices"] = new JsonArray(),
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["id"] = CompletionId(id),
                ["model"] = reply.Turn.Model,
                ["object"] = "chat.completion.chunk",
                ["system_fingerprint"] = "fp_fake",
                ["usage"] = Usage(reply.Turn.PromptTokens, completionTokens),
            })];
        }
        return [.. end, .. "data: [DONE]\n\n"u8];
    }

    protected override byte[] StreamError(string id) => Data(new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = "The server had an error processing your request. Sorry about that!",
            ["type"] = "server_error",
            ["param"] = null,
            ["code"] = null,
        },
    });

    private static byte[] Chunk(string id, NativeReply reply, JsonObject delta, string? finish, JsonObject filter) => Data(new JsonObject
    {
        ["choices"] = new JsonArray(new JsonObject
        {
            ["content_filter_results"] = filter,
            ["delta"] = delta,
            ["finish_reason"] = finish,
            ["index"] = 0,
            ["logprobs"] = null,
        }),
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["id"] = CompletionId(id),
        ["model"] = reply.Turn.Model,
        ["object"] = "chat.completion.chunk",
        ["system_fingerprint"] = "fp_fake",
    });

    private static byte[] Data(JsonObject json) => Encoding.UTF8.GetBytes($"data: {json.ToJsonString(Relaxed)}\n\n");
}
