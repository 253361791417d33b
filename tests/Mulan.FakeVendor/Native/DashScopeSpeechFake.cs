using System.Buffers.Binary;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// DashScope speech over its WebSocket inference API, <c>GET /api-ws/v1/inference</c> upgraded with
/// <c>Authorization: Bearer &lt;the fake's key&gt;</c> (anything else: HTTP 401 <c>InvalidApiKey</c>, no socket).
/// One task per socket: <c>run-task</c> (checked: task_group audio, task asr/tts with function recognition/SpeechSynthesizer,
/// a known model, parameters, input), <c>task-started</c>; ASR takes binary 16 kHz PCM until <c>finish-task</c> and answers
/// two sentences that say what arrived (bytes, seconds, frames); TTS (CosyVoice: text in <c>continue-task</c>; Sambert: in
/// <c>run-task</c>) answers a 440 Hz tone of 50 ms per character in binary frames; then <c>task-finished</c>. Queued faults:
/// <see cref="FakeFault.Status"/> (401, 429, 402 = Arrearage, 400, 451 = DataInspectionFailed, 5xx) → <c>task-failed</c>
/// instead of <c>task-started</c>; <see cref="FakeFault.ErrorEvent"/> → <c>task-failed</c> after that many results or audio
/// frames; <see cref="FakeFault.ResetAfter"/> → the connection dropped after that many.
/// </summary>
internal sealed class DashScopeSpeechFake : NativeProtocol
{
    public const string Path = "/api-ws/v1/inference";
    public const double SecondsPerCharacter = 0.05;
    public const int AudioFrameBytes = 4096;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private const string HttpFlowUnused = "DashScope speech answers only over a WebSocket";

    private static readonly HashSet<string> AsrModels = ["paraformer-realtime-v2", "paraformer-realtime-v1", "paraformer-realtime-8k-v2", "paraformer-realtime-8k-v1", "fun-asr-realtime"];

    private static readonly HashSet<string> CosyVoices =
    [
        "longwan", "longcheng", "longhua", "longxiaochun", "longxiaoxia", "longxiaocheng", "longxiaobai", "longlaotie", "longshu",
        "longshuo", "longjing", "longmiao", "longyue", "longyuan", "longfei", "longjielidou", "longtong", "longxiang", "loongstella", "loongbella",
    ];

    private static readonly HashSet<int> CosyRates = [8000, 16000, 22050, 24000, 44100, 48000];

    public override bool Serves(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Path.Value is Path or Path + "/";

    internal static (string Code, string Message) ErrorOf(int status) => status switch
    {
        401 or 403 => ("InvalidApiKey", "Invalid API-key provided."),
        429 => ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
        402 => ("Arrearage", "Access denied, please make sure your account is in good standing."),
        451 => ("DataInspectionFailed", "Input data may contain inappropriate content."),
        >= 500 => ("InternalError", "An internal error has occured, please try again later or contact service support."),
        _ => ("InvalidParameter", "The request is invalid."),
    };

    public override async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var id = state.NextId("ds-ws-");
        context.Response.Headers["x-request-id"] = id;
        var authorization = Http.Header(context, "Authorization");
        // The documented examples write "bearer" in lowercase: the scheme is case-insensitive, the key is not.
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization[7..] != state.ApiKey)
        {
            state.BillFailed(context, id, "speech", "");
            await WriteErrorAsync(context, FakeErrorKind.Auth, 401, "Invalid API-key provided.", null);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            state.BillFailed(context, id, "speech", "");
            await WriteErrorAsync(context, FakeErrorKind.BadRequest, 400, "WebSocket upgrade required", null);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await new Session(context, state, socket, id).RunAsync();
    }

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) =>
        Http.Header(context, "Authorization") is { } a && a.Length > 7 && a[7..] == state.ApiKey;

    protected override async Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject
        {
            ["code"] = kind == FakeErrorKind.Auth ? "InvalidApiKey" : "InvalidParameter",
            ["message"] = message,
            ["request_id"] = context.Response.Headers["x-request-id"].ToString(),
        }.ToJsonString());
    }

    private sealed class Session(HttpContext context, VendorState state, WebSocket socket, string id)
    {
        private string _taskId = "";
        private string _model = "";
        private string _endpoint = "speech";
        private int _sent;
        private FakeFault? _fault;

        public async Task RunAsync()
        {
            var first = await ReceiveAsync();
            if (first is not { Text: { } text })
            {
                state.BillFailed(context, id, _endpoint, "", streamed: true);
                return;
            }
            if (state.RecordRequests)
            {
                state.Requests.Add(new ReceivedRequest("WS", context.Request.Path.Value ?? "", new Dictionary<string, string>(), Encoding.UTF8.GetBytes(text), DateTimeOffset.UtcNow));
            }
            JsonObject run;
            try
            {
                run = JsonNode.Parse(text) as JsonObject ?? throw new JsonException();
            }
            catch (JsonException)
            {
                await FailAsync("InvalidParameter", "the first message must be a run-task JSON object");
                return;
            }
            _taskId = Str(run["header"]?["task_id"]) ?? "";
            var payload = run["payload"] as JsonObject;
            if (Str(run["header"]?["action"]) != "run-task" || _taskId.Length == 0 || payload is null)
            {
                await FailAsync("InvalidParameter", "expected header.action run-task with a task_id, and a payload");
                return;
            }
            _model = Str(payload["model"]) ?? "";
            var task = Str(payload["task"]);
            _endpoint = task == "asr" ? "transcription" : "speech";
            var function = Str(payload["function"]);
            if (Str(payload["task_group"]) != "audio" || (task, function) is not (("asr", "recognition") or ("tts", "SpeechSynthesizer"))
                || payload["parameters"] is not JsonObject parameters || payload["input"] is not JsonObject input)
            {
                await FailAsync("InvalidParameter", "payload needs task_group audio, task asr with function recognition or tts with SpeechSynthesizer, parameters and input");
                return;
            }
            var refusal = task == "asr" ? CheckAsr(parameters) : CheckTts(parameters, input);
            if (refusal is { } r)
            {
                await FailAsync(r.Code, r.Message);
                return;
            }
            _fault = state.TakeFault();
            if (_fault is FakeFault.Status status)
            {
                var (code, message) = ErrorOf(status.Code);
                await FailAsync(code, message);
                return;
            }
            await SendEventAsync("task-started", new JsonObject { ["output"] = new JsonObject() });
            if (task == "asr")
            {
                await RecognizeAsync(parameters);
            }
            else
            {
                await SynthesizeAsync(parameters, input);
            }
        }

        private (string Code, string Message)? CheckAsr(JsonObject parameters)
        {
            if (!AsrModels.Contains(_model))
            {
                return ("ModelNotFound", $"Model not found ({_model})!");
            }
            var rate = _model.Contains("-8k-", StringComparison.Ordinal) ? 8000 : 16000;
            if (Str(parameters["format"]) != "pcm" || Int(parameters["sample_rate"]) != rate)
            {
                return ("InvalidParameter", $"the fake takes format pcm at sample_rate {rate}");
            }
            return null;
        }

        private (string Code, string Message)? CheckTts(JsonObject parameters, JsonObject input)
        {
            var sambert = _model.StartsWith("sambert-", StringComparison.Ordinal);
            if (!sambert && !_model.StartsWith("cosyvoice-v", StringComparison.Ordinal))
            {
                return ("ModelNotFound", $"Model not found ({_model})!");
            }
            if (Str(parameters["format"]) != "pcm" || Int(parameters["sample_rate"]) is not { } rate || !CosyRates.Contains((int)rate))
            {
                return ("InvalidParameter", "the fake produces format pcm at a documented sample_rate");
            }
            if (!sambert)
            {
                var voice = Str(parameters["voice"]) ?? "";
                var suffix = _model.StartsWith("cosyvoice-v2", StringComparison.Ordinal) ? "_v2" : "";
                if (!voice.EndsWith(suffix, StringComparison.Ordinal) || !CosyVoices.Contains(voice[..^suffix.Length]))
                {
                    return ("InvalidParameter", $"voice '{voice}' is not a voice of {_model}");
                }
            }
            else if (string.IsNullOrEmpty(Str(input["text"])))
            {
                return ("InvalidParameter", "input.text is required for sambert");
            }
            return null;
        }

        private async Task RecognizeAsync(JsonObject parameters)
        {
            long bytes = 0;
            var frames = 0;
            while (true)
            {
                var message = await ReceiveAsync();
                if (message is null)
                {
                    Bill(BillOutcome.ClientAborted);
                    return;
                }
                if (message.Value.Binary is { } audio)
                {
                    bytes += audio.Length;
                    frames++;
                    continue;
                }
                var action = Str(JsonNode.Parse(message.Value.Text!)?["header"]?["action"]);
                if (action == "finish-task")
                {
                    break;
                }
                await FailAsync("InvalidParameter", $"unexpected action '{action}' during recognition");
                return;
            }
            var seconds = bytes / 2 / (double)Int(parameters["sample_rate"])!;
            var ms = (long)Math.Round(seconds * 1000);
            var secondsText = seconds.ToString("0.00", CultureInfo.InvariantCulture);
            var hint = parameters["language_hints"] is JsonArray hints ? string.Join(",", hints.Select(h => Str(h))) : "none";
            var sentences = new (string Text, long Begin, long End)[]
            {
                ($"收到{bytes}字节音频。", 0, ms / 2),
                ($"时长{secondsText}秒，{frames}帧，语言{hint}。", ms / 2, ms),
            };
            for (var i = 0; i < sentences.Length; i++)
            {
                if (!await BeforeResultAsync())
                {
                    return;
                }
                var (text, begin, end) = sentences[i];
                // A partial first, then the final sentence (sentence_end), as the real-time service streams them.
                await SendEventAsync("result-generated", Sentence(i + 1, text[..(text.Length / 2)], begin, null, false));
                await SendEventAsync("result-generated", Sentence(i + 1, text, begin, end, true, i == sentences.Length - 1 ? (long)Math.Ceiling(seconds) : null));
            }
            Bill(BillOutcome.Completed);
            await SendEventAsync("task-finished", new JsonObject { ["output"] = new JsonObject() });
            await CloseAsync();
        }

        private static JsonObject Sentence(int number, string text, long begin, long? end, bool final, long? duration = null)
        {
            var payload = new JsonObject
            {
                ["output"] = new JsonObject
                {
                    ["sentence"] = new JsonObject
                    {
                        ["sentence_id"] = number,
                        ["begin_time"] = begin,
                        ["end_time"] = end,
                        ["text"] = text,
                        ["heartbeat"] = false,
                        ["sentence_end"] = final,
                        ["words"] = new JsonArray(),
                    },
                },
            };
            if (duration is { } d)
            {
                payload["usage"] = new JsonObject { ["duration"] = d };
            }
            return payload;
        }

        private async Task SynthesizeAsync(JsonObject parameters, JsonObject input)
        {
            var text = new StringBuilder(Str(input["text"]) ?? "");
            if (!_model.StartsWith("sambert-", StringComparison.Ordinal))
            {
                while (true)
                {
                    var message = await ReceiveAsync();
                    if (message is null)
                    {
                        Bill(BillOutcome.ClientAborted);
                        return;
                    }
                    if (message.Value.Text is not { } json)
                    {
                        await FailAsync("InvalidParameter", "synthesis takes no binary frames");
                        return;
                    }
                    var node = JsonNode.Parse(json);
                    var action = Str(node?["header"]?["action"]);
                    if (action == "continue-task")
                    {
                        text.Append(Str(node?["payload"]?["input"]?["text"]) ?? "");
                        continue;
                    }
                    if (action == "finish-task")
                    {
                        break;
                    }
                    await FailAsync("InvalidParameter", $"unexpected action '{action}' during synthesis");
                    return;
                }
            }
            if (text.Length == 0)
            {
                await FailAsync("InvalidParameter", "no text to synthesize");
                return;
            }
            var rate = (int)Int(parameters["sample_rate"])!;
            var pcm = Tone(rate, text.Length * SecondsPerCharacter);
            await SendEventAsync("result-generated", new JsonObject { ["output"] = new JsonObject { ["sentence"] = new JsonObject { ["words"] = new JsonArray() } } });
            for (var offset = 0; offset < pcm.Length; offset += AudioFrameBytes)
            {
                if (!await BeforeResultAsync())
                {
                    return;
                }
                if (!await SendAsync(pcm.AsMemory(offset, Math.Min(AudioFrameBytes, pcm.Length - offset)), WebSocketMessageType.Binary))
                {
                    Bill(BillOutcome.ClientAborted);
                    return;
                }
            }
            Bill(BillOutcome.Completed);
            await SendEventAsync("task-finished", new JsonObject { ["output"] = new JsonObject(), ["usage"] = new JsonObject { ["characters"] = text.Length } });
            await CloseAsync();
        }

        /// <summary>Applies an ErrorEvent / ResetAfter fault once that many results or frames have gone out.</summary>
        private async Task<bool> BeforeResultAsync()
        {
            switch (_fault)
            {
                case FakeFault.ErrorEvent e when _sent >= e.AfterChunks:
                    Bill(BillOutcome.Failed);
                    await SendEventAsync("task-failed", null, ("InternalError", e.Message ?? "An internal error has occured during the task."));
                    await CloseAsync();
                    return false;
                case FakeFault.ResetAfter r when _sent >= r.Chunks:
                    Bill(BillOutcome.Reset);
                    await Task.Delay(50, CancellationToken.None);
                    context.Abort();
                    return false;
            }
            _sent++;
            return true;
        }

        internal static byte[] Tone(int rate, double seconds)
        {
            var samples = (int)Math.Round(rate * seconds);
            var pcm = new byte[samples * 2];
            for (var i = 0; i < samples; i++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * 2), (short)(Math.Sin(2 * Math.PI * 440 * i / rate) * 6000));
            }
            return pcm;
        }

        private async Task FailAsync(string code, string message)
        {
            Bill(BillOutcome.Failed);
            await SendEventAsync("task-failed", null, (code, message));
            await CloseAsync();
        }

        private void Bill(string outcome) => state.Bill(context, id, _endpoint, _model, 0, 0, outcome, streamed: true);

        private Task<bool> SendEventAsync(string name, JsonObject? payload, (string Code, string Message)? error = null)
        {
            var header = new JsonObject { ["task_id"] = _taskId, ["event"] = name, ["attributes"] = new JsonObject() };
            if (error is { } e)
            {
                header["error_code"] = e.Code;
                header["error_message"] = e.Message;
            }
            var message = new JsonObject { ["header"] = header, ["payload"] = payload ?? new JsonObject() };
            return SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString(HunyuanFake.Relaxed)), WebSocketMessageType.Text);
        }

        private async Task<bool> SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type)
        {
            try
            {
                await socket.SendAsync(data, type, true, context.RequestAborted);
                return true;
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                return false;
            }
        }

        private async Task<(string? Text, byte[]? Binary)?> ReceiveAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(ReadTimeout);
            var buffer = new byte[16 * 1024];
            using var message = new MemoryStream();
            ValueWebSocketReceiveResult received;
            try
            {
                do
                {
                    received = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return null;
                    }
                    message.Write(buffer, 0, received.Count);
                }
                while (!received.EndOfMessage);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                return null;
            }
            return received.MessageType == WebSocketMessageType.Binary ? (null, message.ToArray()) : (Encoding.UTF8.GetString(message.ToArray()), null);
        }

        private async Task CloseAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                // The client went first; nothing left to say.
            }
        }

        private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        private static long? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
    }

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] Completion(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override string StreamContentType => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamStart(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] TextFrame(string id, NativeReply reply, int index) => throw new NotSupportedException(HttpFlowUnused);

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamError(string id) => throw new NotSupportedException(HttpFlowUnused);
}
