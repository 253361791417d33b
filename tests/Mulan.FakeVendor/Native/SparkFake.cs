using System.Collections.Frozen;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// iFlytek Spark over WebSocket: <c>GET /v1.1/chat</c> (and the other version paths) upgraded to a WebSocket whose
/// URL carries iFlytek's HMAC signature (<c>authorization</c>, <c>date</c>, <c>host</c>); one request frame, then
/// answer frames until <c>header.status</c> 2, which alone carries <c>payload.usage</c>; errors are frames with a
/// non-zero <c>header.code</c>, and a bad signature is a refused handshake (HTTP 401, Kong's words).
/// Credentials: APPID <see cref="AppId"/>, APIKey <see cref="KeyId"/>, APISecret = the fake's key.
/// </summary>
internal sealed partial class SparkFake : NativeProtocol
{
    public const string AppId = "fakeapp";
    public const string KeyId = "fakekey";
    private const string DateFormatMessage = "HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication";
    private static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private const int MaxRequestBytes = 1024 * 1024;
    private const string HttpFlowUnused = "Spark answers only over a WebSocket";

    // Kept apart from the adapter's table on purpose: the fake checks the pairing on its own.
    private static readonly FrozenDictionary<string, string> PathOfDomain = new Dictionary<string, string>
    {
        ["lite"] = "/v1.1/chat",
        ["generalv3"] = "/v3.1/chat",
        ["pro-128k"] = "/chat/pro-128k",
        ["generalv3.5"] = "/v3.5/chat",
        ["max-32k"] = "/chat/max-32k",
        ["4.0Ultra"] = "/v4.0/chat",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenSet<string> SocketPaths = PathOfDomain.Values.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>iFlytek's codes for the failure classes (its error table; the messages are modelled on its own).</summary>
    internal static (int Code, string Message) ErrorFrame(FakeErrorKind kind) => kind switch
    {
        FakeErrorKind.Auth => (11200, "AppIdNoAuthError:(11200)auth no license"),
        FakeErrorKind.RateLimit => (11202, "AppIdQpsOverFlowError:(11202)qps limit"),
        FakeErrorKind.Quota => (11201, "AppIdNoAuthError:(11201)licc daily limit"),
        FakeErrorKind.ContentFilter => (10013, "the input content failed moderation"),
        FakeErrorKind.Overloaded => (11203, "AppIdConcOverFlowError:(11203)conc limit"),
        FakeErrorKind.Server => (10222, "EngineNetworkError: engine connection failed"),
        _ => (10163, "request parameter invalid"),
    };

    public override bool Serves(HttpRequest request) => HttpMethods.IsGet(request.Method) && request.Path.Value is { } path && SocketPaths.Contains(path);

    public override async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var id = state.NextId("native-");
        context.Response.Headers["x-request-id"] = id;
        if (Refusal(context, state) is { } refused)
        {
            state.BillFailed(context, id, "chat", "");
            await WriteErrorAsync(context, KindOf(refused.Status), refused.Status, refused.Message, null);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            state.BillFailed(context, id, "chat", "");
            await WriteErrorAsync(context, FakeErrorKind.BadRequest, 400, "WebSocket upgrade required", null);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await new Session(this, context, state, socket, id).RunAsync();
    }

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => Refusal(context, state) is null;

    /// <summary>Checks the signed URL the way iFlytek's gateway does; null when it verifies.</summary>
    internal static (int Status, string Message)? Refusal(HttpContext context, VendorState state)
    {
        var query = context.Request.Query;
        string? authorization = query["authorization"], date = query["date"], host = query["host"];
        if (string.IsNullOrEmpty(authorization) || string.IsNullOrEmpty(date) || string.IsNullOrEmpty(host))
        {
            return (401, "Unauthorized");
        }
        var hostHeader = context.Request.Host.Value ?? "";
        if (!DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            || (DateTimeOffset.UtcNow - at).Duration() > MaxSkew)
        {
            return (403, DateFormatMessage);
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization));
        }
        catch (FormatException)
        {
            return (401, "HMAC signature cannot be verified");
        }
        var parts = AuthorizationPattern().Match(decoded);
        if (!parts.Success || parts.Groups["key"].Value != KeyId || parts.Groups["algorithm"].Value != "hmac-sha256"
            || parts.Groups["headers"].Value != "host date request-line")
        {
            return (401, "HMAC signature cannot be verified");
        }
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var requestLine = $"GET {(question < 0 ? target : target[..question])} HTTP/1.1";
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(state.ApiKey));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes("host: " + hostHeader + "\n" + "date: " + date + "\n" + requestLine));
        byte[] given;
        try
        {
            given = Convert.FromBase64String(parts.Groups["signature"].Value);
        }
        catch (FormatException)
        {
            return (401, "HMAC signature does not match");
        }
        // The host parameter must name the host the request went to: the signature covers the Host header.
        return host == hostHeader && CryptographicOperations.FixedTimeEquals(expected, given) ? null : (401, "HMAC signature does not match");
    }

    [GeneratedRegex("""^api_key="(?<key>[^"]*)", algorithm="(?<algorithm>[^"]*)", headers="(?<headers>[^"]*)", signature="(?<signature>[^"]*)"$""")]
    private static partial Regex AuthorizationPattern();

    private static async Task WriteRefusalAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(new JsonObject { ["message"] = message }.ToJsonString());
    }

    /// <summary>A refused handshake; every failure after it is an error frame (<see cref="ErrorFrame"/>).</summary>
    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        WriteRefusalAsync(context, status, message);

    /// <summary>The request frame: <c>{header:{app_id}, parameter:{chat:{domain,…}}, payload:{message:{text:[…]}, functions?}}</c>.</summary>
    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error)
    {
        error = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (!root.TryGetProperty("parameter", out var parameter) || !parameter.TryGetProperty("chat", out var chat)
                || !chat.TryGetProperty("domain", out var domain) || domain.ValueKind != JsonValueKind.String)
            {
                error = "parameter.chat.domain is required";
                return null;
            }
            if (chat.TryGetProperty("temperature", out var t) && (t.ValueKind != JsonValueKind.Number || t.GetDouble() is < 0 or > 1))
            {
                error = "parameter.chat.temperature must be in [0, 1]";
                return null;
            }
            if (chat.TryGetProperty("max_tokens", out var max) && (!max.TryGetInt32(out var m) || m is < 1 or > 8192))
            {
                error = "parameter.chat.max_tokens must be in [1, 8192]";
                return null;
            }
            if (!root.TryGetProperty("payload", out var payload) || !payload.TryGetProperty("message", out var message)
                || !message.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.Array || text.GetArrayLength() == 0)
            {
                error = "payload.message.text is required";
                return null;
            }
            foreach (var item in text.EnumerateArray())
            {
                var role = item.TryGetProperty("role", out var r) ? r.GetString() : null;
                if (role is not ("system" or "user" or "assistant") || !item.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                {
                    error = $"payload.message.text: role must be system, user or assistant with a string content (got '{role}')";
                    return null;
                }
            }
            if (payload.TryGetProperty("functions", out var functions)
                && (!functions.TryGetProperty("text", out var list) || list.ValueKind != JsonValueKind.Array
                    || list.EnumerateArray().Any(f => !f.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)))
            {
                error = "payload.functions.text must be a list of functions with a name";
                return null;
            }
            return new NativeTurn(domain.GetString()!, true, NativeTurn.CountPrompt(payload), NativeTurn.Seed(body.Span));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            error = "invalid request frame: " + e.Message;
            return null;
        }
    }

    // The base class's HTTP flow never runs (HandleAsync is the WebSocket session below), so its frame hooks are not used.
    protected override string StreamContentType => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] Completion(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamStart(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] TextFrame(string id, NativeReply reply, int index) => throw new NotSupportedException(HttpFlowUnused);

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamError(string id) => Error(id, ErrorFrame(FakeErrorKind.Server));

    private static JsonObject TextItem(string content) => new() { ["content"] = content, ["role"] = "assistant", ["index"] = 0 };

    private static JsonObject CallItem(int call) => new()
    {
        ["content"] = "",
        ["role"] = "assistant",
        ["content_type"] = "function_call",
        ["function_call"] = new JsonObject { ["arguments"] = NativeReply.ToolCalls[call].Arguments, ["name"] = NativeReply.ToolCalls[call].Name },
        ["index"] = 0,
    };

    private static int CallTokens(int call) => NativeReply.NameTokens(call) + NativeReply.ArgumentPieces(call).Count;

    /// <summary>Spark's usage: <c>prompt_tokens</c> covers the whole conversation, <c>question_tokens</c> only its last question.</summary>
    private static JsonObject Usage(int promptTokens, int questionTokens, int completionTokens) => new()
    {
        ["text"] = new JsonObject
        {
            ["question_tokens"] = questionTokens,
            ["prompt_tokens"] = promptTokens,
            ["completion_tokens"] = completionTokens,
            ["total_tokens"] = promptTokens + completionTokens,
        },
    };

    private static int QuestionTokens(byte[] request)
    {
        using var doc = JsonDocument.Parse(request);
        var question = doc.RootElement.GetProperty("payload").GetProperty("message").GetProperty("text").EnumerateArray()
            .LastOrDefault(m => m.GetProperty("role").GetString() == "user");
        return question.ValueKind == JsonValueKind.Object ? O200k.Count(question.GetProperty("content").GetString()) : 0;
    }

    private static byte[] Frame(string sid, int status, int seq, JsonObject item, JsonObject? usage)
    {
        var payload = new JsonObject { ["choices"] = new JsonObject { ["status"] = status, ["seq"] = seq, ["text"] = new JsonArray(item) } };
        if (usage is not null)
        {
            payload["usage"] = usage;
        }
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["header"] = new JsonObject { ["code"] = 0, ["message"] = "Success", ["sid"] = sid, ["status"] = status },
            ["payload"] = payload,
        });
    }

    private static byte[] Error(string sid, (int Code, string Message) error) => JsonSerializer.SerializeToUtf8Bytes(new JsonObject
    {
        ["header"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message, ["sid"] = sid, ["status"] = 2 },
    });

    /// <summary>
    /// One connection: read the request frame, then answer in the shared order (queued fault, model options,
    /// first-frame delay, reply) and bill in the shared ledger. The last delta rides in the status-2 frame with the
    /// usage, as in iFlytek's documented example; <c>reset=N</c> / <c>errorevent=N</c> count the frames before it.
    /// </summary>
    private sealed class Session(SparkFake fake, HttpContext context, VendorState state, WebSocket socket, string id)
    {
        private int _tokens;

        public async Task RunAsync()
        {
            var request = await ReceiveAsync();
            if (request is null)
            {
                state.BillFailed(context, id, "chat", "", streamed: true);
                return;
            }
            if (state.RecordRequests)
            {
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var (name, value) in context.Request.Headers)
                {
                    headers[name] = value.ToString();
                }
                state.Requests.Add(new ReceivedRequest("WS", context.Request.Path.Value ?? "", headers, request, DateTimeOffset.UtcNow));
            }
            if (AppIdOf(request) != AppId)
            {
                await FailAsync("", FakeErrorKind.Auth);
                return;
            }
            var turn = fake.Parse(context, request, out var parseError);
            if (turn is null)
            {
                await FailAsync("", FakeErrorKind.BadRequest, parseError);
                return;
            }
            var domain = turn.Model.Split('+')[0];
            if (!PathOfDomain.TryGetValue(domain, out var path) || path != context.Request.Path.Value)
            {
                await FailAsync(turn.Model, FakeErrorKind.BadRequest, $"domain '{domain}' is not served at {context.Request.Path.Value}");
                return;
            }
            var fault = state.TakeFault();
            if (fault is FakeFault.Status status)
            {
                await FailAsync(turn.Model, KindOf(status.Code));
                return;
            }
            if (!ModelSpec.TryParse(turn.Model, out var spec, out var specError))
            {
                await FailAsync(turn.Model, FakeErrorKind.BadRequest, specError);
                return;
            }
            spec = spec.With(fault);
            if (spec.FailStatus is { } code)
            {
                await FailAsync(turn.Model, KindOf(code));
                return;
            }
            if (spec.Quota || spec.Filter)
            {
                await FailAsync(turn.Model, spec.Quota ? FakeErrorKind.Quota : FakeErrorKind.ContentFilter);
                return;
            }
            if (!await ChatHandler.DelayAsync(context, spec.FirstByteMs))
            {
                Bill(turn, BillOutcome.ClientAborted);
                return;
            }
            await AnswerAsync(new NativeReply(turn, spec), spec, QuestionTokens(request));
        }

        private async Task AnswerAsync(NativeReply reply, ModelSpec spec, int questionTokens)
        {
            var turn = reply.Turn;
            var deltas = new List<(JsonObject Item, int Tokens)>();
            if (reply.Tools)
            {
                for (var c = 0; c < NativeReply.ToolCalls.Count; c++)
                {
                    deltas.Add((CallItem(c), CallTokens(c)));
                }
            }
            else
            {
                deltas.AddRange(reply.Words.Select(w => (TextItem(w), 1)));
            }
            var before = Math.Max(0, deltas.Count - 1);
            for (var i = 0; ; i++)
            {
                if (spec.ResetAfter is { } reset && i == Math.Min(reset, before))
                {
                    Bill(turn, BillOutcome.Reset);
                    await Task.Delay(50, CancellationToken.None); // lets the frames already sent arrive before the RST
                    context.Abort();
                    return;
                }
                if (spec.ErrorEventAfter is { } errorAt && i == Math.Min(errorAt, before))
                {
                    Bill(turn, BillOutcome.Failed);
                    if (await SendAsync(fake.StreamError(id)))
                    {
                        await CloseAsync();
                    }
                    return;
                }
                if (i == before)
                {
                    break;
                }
                if (!await ChatHandler.DelayAsync(context, spec.GapMs) || !await SendAsync(Frame(id, i == 0 ? 0 : 1, i, deltas[i].Item, null)))
                {
                    Bill(turn, BillOutcome.ClientAborted);
                    return;
                }
                _tokens += deltas[i].Tokens;
            }
            var last = deltas.Count > 0 ? deltas[^1] : (Item: TextItem(""), Tokens: 0);
            if (!await ChatHandler.DelayAsync(context, spec.GapMs))
            {
                Bill(turn, BillOutcome.ClientAborted);
                return;
            }
            _tokens += last.Tokens;
            // Billed before the last frame goes out: a client that has read it finds the bill in the ledger.
            var bill = Bill(turn, BillOutcome.Completed, usageSent: !spec.NoUsage);
            if (!await SendAsync(Frame(id, 2, before, last.Item, spec.NoUsage ? null : Usage(turn.PromptTokens, questionTokens, _tokens))))
            {
                state.MarkClientAborted(bill);
                return;
            }
            await CloseAsync();
        }

        private VendorBill Bill(NativeTurn turn, string outcome, bool usageSent = false) =>
            state.Bill(context, id, "chat", turn.Model, turn.PromptTokens, _tokens, outcome, streamed: true, usageSent);

        private async Task FailAsync(string model, FakeErrorKind kind, string? message = null)
        {
            state.BillFailed(context, id, "chat", model, streamed: true);
            var (code, text) = ErrorFrame(kind);
            if (await SendAsync(Error(id, (code, message is null ? text : $"{text}: {message}"))))
            {
                await CloseAsync();
            }
        }

        private static string? AppIdOf(byte[] request)
        {
            try
            {
                using var doc = JsonDocument.Parse(request);
                return doc.RootElement.TryGetProperty("header", out var header) && header.TryGetProperty("app_id", out var app)
                    && app.ValueKind == JsonValueKind.String ? app.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private async Task<byte[]?> ReceiveAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(ReadTimeout);
            var buffer = new byte[16 * 1024];
            using var message = new MemoryStream();
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                    if (received.MessageType == WebSocketMessageType.Close || message.Length + received.Count > MaxRequestBytes)
                    {
                        return null;
                    }
                    message.Write(buffer, 0, received.Count);
                    if (received.EndOfMessage)
                    {
                        return message.ToArray();
                    }
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                return null;
            }
        }

        private async Task<bool> SendAsync(byte[] frame)
        {
            if (context.RequestAborted.IsCancellationRequested || socket.State != WebSocketState.Open)
            {
                return false;
            }
            try
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
                return true;
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                return false;
            }
        }

        // The server ends the session after its last frame, as iFlytek's does.
        private async Task CloseAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                // The client went first; nothing is owed to it any more.
            }
        }
    }
}
