using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// Tencent Cloud ASR <c>SentenceRecognition</c> (2019-06-14, service <c>asr</c>) and OCR <c>GeneralBasicOCR</c>
/// (2018-11-19, service <c>ocr</c>) on <c>POST /</c>, told apart from Hunyuan by <c>X-TC-Action</c>. The TC3 signature
/// is checked with the service of the action (<see cref="HunyuanFake.Verify"/>: key pair <c>AKIDfake</c> and the fake's
/// key, five minutes of skew); every error is an HTTP 200 Tencent error body. Limits as documented: audio ≤ 60 s and
/// ≤ 3 MB after base64, images ≤ 7 MB after base64. Queued faults: <see cref="FakeFault.Status"/> 401/429/402 (quota)/
/// 400/500 become the Tencent codes of <see cref="ErrorOf"/>, 503 is a bare HTTP 503 (a gateway in front failing);
/// <see cref="FakeFault.ResetAfter"/> drops the connection. A 1×1 PNG has no text (<c>FailedOperation.ImageNoText</c>).
/// </summary>
internal sealed class TencentSpeechFake : NativeProtocol
{
    public const string AsrAction = "SentenceRecognition";
    public const string OcrAction = "GeneralBasicOCR";
    public const int MaxAudioBase64 = 3 * 1024 * 1024;
    public const int MaxImageBase64 = 7 * 1024 * 1024;
    private const string HttpFlowUnused = "the speech fake answers in HandleAsync";

    private static readonly HashSet<string> Engines =
    [
        "8k_zh", "8k_en", "16k_zh", "16k_zh-PY", "16k_zh_medical", "16k_en", "16k_yue", "16k_ja", "16k_ko", "16k_vi", "16k_ms", "16k_id",
        "16k_fil", "16k_th", "16k_pt", "16k_tr", "16k_ar", "16k_es", "16k_hi", "16k_fr", "16k_de", "16k_zh_dialect",
    ];

    private static readonly HashSet<string> VoiceFormats = ["wav", "pcm", "ogg-opus", "speex", "silk", "mp3", "m4a", "aac", "amr"];

    private static readonly HashSet<string> AsrKeys =
    [
        "EngSerViceType", "SourceType", "VoiceFormat", "ProjectId", "SubServiceType", "Url", "UsrAudioKey", "Data", "DataLen", "WordInfo",
        "FilterDirty", "FilterModal", "FilterPunc", "ConvertNumMode", "HotwordId", "CustomizationId", "ReinforceHotword", "HotwordList", "InputSampleRate",
    ];

    private static readonly HashSet<string> OcrKeys = ["ImageBase64", "ImageUrl", "Scene", "LanguageType", "IsPdf", "PdfPageNumber", "IsWords"];

    private static readonly HashSet<string> OcrLanguages = ["zh", "zh_rare", "auto", "mix", "jap", "kor", "spa", "fre", "ger", "por", "vie", "may", "rus", "ita", "hol", "swe", "fin", "dan", "nor", "hun", "tha", "hi", "ara"];

    public override bool Serves(HttpRequest request) => HunyuanFake.IsAction(request, AsrAction) || HunyuanFake.IsAction(request, OcrAction);

    internal static (string Code, string Message) ErrorOf(FakeErrorKind kind) => kind switch
    {
        FakeErrorKind.Auth => ("AuthFailure.SecretIdNotFound", "密钥不存在。"),
        FakeErrorKind.RateLimit => ("RequestLimitExceeded", "请求的次数超过了频率限制。"),
        FakeErrorKind.Quota => ("ResourceUnavailable.InArrears", "帐号已欠费。"),
        FakeErrorKind.Server => ("InternalError", "内部错误。"),
        _ => ("InvalidParameter", "参数错误。"),
    };

    public override async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var asr = Http.Header(context, "X-TC-Action") == AsrAction;
        var endpoint = asr ? "transcription" : "ocr";
        var id = state.NextId(asr ? "asr-" : "ocr-");
        context.Response.Headers["x-request-id"] = id;
        if (!HunyuanFake.Verify(context, body.Span, state.ApiKey, asr ? "asr" : "ocr"))
        {
            state.BillFailed(context, id, endpoint, "");
            await HunyuanFake.WriteTencentErrorAsync(context, FakeErrorKind.Auth, "");
            return;
        }
        var version = Http.Header(context, "X-TC-Version");
        if (version != (asr ? "2019-06-14" : "2018-11-19"))
        {
            await RefuseAsync(context, state, id, endpoint, "NoSuchVersion", $"The requested version `{version}` of API `{(asr ? AsrAction : OcrAction)}` does not exist.");
            return;
        }
        JsonObject request;
        try
        {
            request = JsonNode.Parse(body.Span) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            await RefuseAsync(context, state, id, endpoint, "InvalidParameter", "The request body is not a JSON object.");
            return;
        }
        if (request.Select(p => p.Key).FirstOrDefault(k => !(asr ? AsrKeys : OcrKeys).Contains(k)) is { } unknown)
        {
            await RefuseAsync(context, state, id, endpoint, "UnknownParameter", $"The parameter `{unknown}` is not recognized.");
            return;
        }
        var (answer, refusal, model) = asr ? Transcribe(request) : Read(request);
        if (refusal is { } r)
        {
            await RefuseAsync(context, state, id, endpoint, r.Code, r.Message);
            return;
        }
        switch (state.TakeFault())
        {
            case FakeFault.Status { Code: 503 }:
                state.BillFailed(context, id, endpoint, model);
                context.Response.StatusCode = 503;
                await context.Response.WriteAsync("<html><body>503 Service Temporarily Unavailable</body></html>");
                return;
            case FakeFault.Status status:
                var error = ErrorOf(status.Code == 402 ? FakeErrorKind.Quota : KindOf(status.Code));
                await RefuseAsync(context, state, id, endpoint, error.Code, error.Message, model);
                return;
            case FakeFault.ResetAfter:
                state.Bill(context, id, endpoint, model, 0, 0, BillOutcome.Reset);
                context.Abort();
                return;
        }
        answer!["RequestId"] = id;
        state.Bill(context, id, endpoint, model, 0, 0, BillOutcome.Completed);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["Response"] = answer }.ToJsonString(HunyuanFake.Relaxed));
    }

    private static async Task RefuseAsync(HttpContext context, VendorState state, string id, string endpoint, string code, string message, string model = "")
    {
        state.BillFailed(context, id, endpoint, model);
        HunyuanFake.Refuse(context, code, message);
        await HunyuanFake.WriteTencentErrorAsync(context, FakeErrorKind.BadRequest, message);
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;

    /// <summary>SentenceRecognition: the text says what arrived (bytes and seconds of 16 kHz 16-bit audio, the engine).</summary>
    private static (JsonObject? Answer, (string Code, string Message)? Refusal, string Model) Transcribe(JsonObject request)
    {
        var engine = Str(request["EngSerViceType"]);
        if (engine is null || Int(request["SourceType"]) is not { } source || Str(request["VoiceFormat"]) is not { } format)
        {
            return (null, ("MissingParameter", "EngSerViceType, SourceType and VoiceFormat are required."), "");
        }
        if (!Engines.Contains(engine))
        {
            return (null, ("InvalidParameterValue.ErrorInvalidEngSerViceType", $"EngSerViceType `{engine}` is not supported."), "");
        }
        if (!VoiceFormats.Contains(format))
        {
            return (null, ("InvalidParameterValue.ErrorInvalidVoiceFormat", $"VoiceFormat `{format}` is not supported."), engine);
        }
        if (source != 1 || Str(request["Data"]) is not { } data || Int(request["DataLen"]) is not { } dataLen)
        {
            return (null, ("InvalidParameter", "SourceType 1 needs Data (base64) and DataLen."), engine);
        }
        if (data.Length > MaxAudioBase64)
        {
            return (null, ("InvalidParameterValue.ErrorVoicedataTooLong", "音频数据过长（Base64 后超过 3MB）。"), engine);
        }
        byte[] audio;
        try
        {
            audio = Convert.FromBase64String(data);
        }
        catch (FormatException)
        {
            return (null, ("InvalidParameterValue.ErrorInvalidVoicedata", "Data is not valid base64."), engine);
        }
        if (audio.Length != dataLen)
        {
            return (null, ("InvalidParameterValue.ErrorInvalidVoicedata", $"DataLen {dataLen} does not match the {audio.Length} bytes of Data."), engine);
        }
        // pcm is raw samples; wav carries a 44-byte header. Only 16 kHz 16-bit mono is modelled here.
        var samples = (format == "wav" ? Math.Max(0, audio.Length - 44) : audio.Length) / 2;
        var seconds = samples / (engine.StartsWith("8k_", StringComparison.Ordinal) ? 8000.0 : 16000.0);
        if (seconds > 60)
        {
            return (null, ("InvalidParameterValue.ErrorVoicedataTooLong", "音频时长超过 60 秒。"), engine);
        }
        var secondsText = seconds.ToString("0.00", CultureInfo.InvariantCulture);
        var words = new[] { "收到", audio.Length.ToString(CultureInfo.InvariantCulture), "字节", "。", "时长", secondsText, "秒", "。" };
        var answer = new JsonObject
        {
            ["Result"] = $"收到{audio.Length}字节。时长{secondsText}秒。",
            ["AudioDuration"] = (long)Math.Round(seconds * 1000),
        };
        var wordInfo = Int(request["WordInfo"]) ?? 0;
        if (wordInfo > 0)
        {
            // Six spoken words spread evenly over the audio; punctuation (WordInfo 2) takes no time.
            var list = new JsonArray();
            var slot = seconds * 1000 / 6;
            var spoken = 0;
            foreach (var w in words)
            {
                var punctuation = w == "。";
                if (punctuation && wordInfo < 2)
                {
                    continue;
                }
                var start = (long)Math.Round(spoken * slot);
                var end = punctuation ? start : (long)Math.Round((spoken + 1) * slot);
                list.Add(new JsonObject { ["Word"] = w, ["StartTime"] = start, ["EndTime"] = end });
                spoken += punctuation ? 0 : 1;
            }
            answer["WordSize"] = list.Count;
            answer["WordList"] = list;
        }
        else
        {
            answer["WordSize"] = 0;
            answer["WordList"] = null;
        }
        return (answer, null, engine);
    }

    /// <summary>GeneralBasicOCR: three lines that describe the image (bytes, PNG dimensions, the language asked for); the
    /// first two sit close together, the third one a paragraph below.</summary>
    private static (JsonObject? Answer, (string Code, string Message)? Refusal, string Model) Read(JsonObject request)
    {
        const string Model = "GeneralBasicOCR";
        var language = Str(request["LanguageType"]) ?? "zh";
        if (!OcrLanguages.Contains(language))
        {
            return (null, ("InvalidParameterValue.InvalidParameterValueLimit", $"LanguageType `{language}` is not supported."), Model);
        }
        if (Str(request["ImageBase64"]) is not { } image)
        {
            return (null, ("InvalidParameterValue.InvalidParameterValueLimit", "ImageBase64 or ImageUrl is required."), Model);
        }
        if (image.Length > MaxImageBase64)
        {
            return (null, ("LimitExceeded.TooLargeFileError", "文件内容太大。"), Model);
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(image);
        }
        catch (FormatException)
        {
            return (null, ("FailedOperation.ImageDecodeFailed", "图片解码失败。"), Model);
        }
        ReadOnlySpan<byte> png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        var isPng = bytes.Length >= 24 && bytes.AsSpan(0, 8).SequenceEqual(png);
        var isJpeg = bytes.Length > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8;
        if (!isPng && !isJpeg)
        {
            return (null, ("FailedOperation.ImageDecodeFailed", "图片解码失败。"), Model);
        }
        var width = isPng ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(16)) : 0;
        var height = isPng ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(20)) : 0;
        if (width == 1 && height == 1)
        {
            return (null, ("FailedOperation.ImageNoText", "图片中未检测到文本。"), Model);
        }
        var lines = new (string Text, int Y)[]
        {
            ($"图像 {bytes.Length} 字节", 10),
            ($"宽 {width} 高 {height}", 34),
            ($"语言 {language} *fake* #1", 90),
        };
        var detections = new JsonArray();
        foreach (var (text, y) in lines)
        {
            detections.Add(new JsonObject
            {
                ["DetectedText"] = text,
                ["Confidence"] = 99,
                ["Polygon"] = new JsonArray(Point(10, y), Point(210, y), Point(210, y + 20), Point(10, y + 20)),
                ["AdvancedInfo"] = "{\"Parag\":{\"ParagNo\":1}}",
                ["ItemPolygon"] = new JsonObject { ["X"] = 10, ["Y"] = y, ["Width"] = 200, ["Height"] = 20 },
            });
        }
        return (new JsonObject { ["TextDetections"] = detections, ["Language"] = language, ["Angle"] = 0.0, ["PdfPageSize"] = 0 }, null, Model);
    }

    private static JsonObject Point(int x, int y) => new() { ["X"] = x, ["Y"] = y };

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) =>
        HunyuanFake.Verify(context, body.Span, state.ApiKey, Http.Header(context, "X-TC-Action") == AsrAction ? "asr" : "ocr");

    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error) => throw new NotSupportedException(HttpFlowUnused);

    protected override Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds) =>
        HunyuanFake.WriteTencentErrorAsync(context, kind, message);

    protected override byte[] Completion(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override string StreamContentType => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamStart(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] TextFrame(string id, NativeReply reply, int index) => throw new NotSupportedException(HttpFlowUnused);

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamError(string id) => throw new NotSupportedException(HttpFlowUnused);
}
