using System.Collections.Frozen;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// iFlytek dictation (<c>GET /v2/iat</c>) and online synthesis (<c>GET /v2/tts</c>) over WebSockets whose URL carries
/// iFlytek's HMAC signature, checked as <see cref="SparkFake"/> checks it (APPID <see cref="SparkFake.AppId"/>, APIKey
/// <see cref="SparkFake.KeyId"/>, APISecret = the fake's key; skew ≤ 300 s; 401/403 handshake refusals).
/// <para>IAT: first frame <c>{common, business, data{status 0}}</c>, then <c>data{status 1}</c>, last <c>data{status 2}</c>;
/// 16-bit raw L16 at 16 or 8 kHz, at most 60 s. The answer proves what arrived: "收到普通话音频2.50秒，" then
/// "共80000字节64帧。" (English: "Received 2.50 s of English audio, " "80000 bytes in 64 frames."), with <c>dwa: wpgs</c> as
/// a wrong partial of each sentence followed by its replacement (<c>pgs: rpl</c>, <c>rg</c>), each timed by <c>bg</c>/<c>ed</c>
/// in ms.</para>
/// <para>TTS: one frame <c>{common, business{aue raw, auf, vcn, speed…}, data{status 2, text base64 &lt; 8000}}</c>; the answer
/// is a 440 Hz tone, 0.1 s per character of text, in frames of 0.2 s, the last with <c>data.status</c> 2.</para>
/// <para>Queued faults: <see cref="FakeFault.Status"/> with an HTTP status → the iFlytek code of its class, with a code of
/// 10000 or more → that code, as an error frame right after the request; <see cref="FakeFault.ErrorEvent"/> → error
/// 10700 after N answer frames; <see cref="FakeFault.ResetAfter"/> → the socket closed (normally) after N answer frames,
/// without the last one; <see cref="FakeFault.SlowFirstByte"/> → a delay before the first answer frame.</para>
/// </summary>
internal sealed partial class IFlytekSpeechFake : NativeProtocol
{
    public const int MaxAudioSeconds = 60;
    private const int MaxFrameBytes = 256 * 1024;
    private const int MaxTextBase64 = 8000;
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);
    private const string HttpFlowUnused = "iFlytek speech answers only over a WebSocket";

    private static readonly FrozenSet<string> BasicVoices = new[] { "xiaoyan", "aisjiuxu", "aisxping", "aisjinger", "aisbabyxu" }.ToFrozenSet();

    private static readonly FrozenDictionary<int, string> Messages = new Dictionary<int, string>
    {
        [10105] = "illegal access|illegal client_ip",
        [10106] = "invalid parameter",
        [10107] = "invalid parameter value",
        [10110] = "no license",
        [10114] = "session timeout",
        [10160] = "parse request json error",
        [10161] = "parse base64 string error",
        [10163] = "param validate error",
        [10313] = "appid cannot be empty or invalid",
        [10700] = "engine error",
        [11200] = "auth no license",
        [11201] = "auth no enough license",
        [11202] = "licc limit: qps",
        [11203] = "licc limit: conc",
    }.ToFrozenDictionary();

    public override bool Serves(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Path.Value is "/v2/iat" or "/v2/tts";

    public override async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var id = state.NextId("speech-");
        context.Response.Headers["x-request-id"] = id;
        var endpoint = context.Request.Path.Value == "/v2/iat" ? "audio.transcriptions" : "audio.speech";
        if (SparkFake.Refusal(context, state) is { } refused)
        {
            state.BillFailed(context, id, endpoint, "");
            await WriteErrorAsync(context, KindOf(refused.Status), refused.Status, refused.Message, null);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            state.BillFailed(context, id, endpoint, "");
            await WriteErrorAsync(context, FakeErrorKind.BadRequest, 400, "WebSocket upgrade required", null);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var session = new Session(context, state, socket, id, endpoint);
        if (endpoint == "audio.transcriptions")
        {
            await session.DictateAsync();
        }
        else
        {
            await session.SynthesizeAsync();
        }
    }

    protected override bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state) => SparkFake.Refusal(context, state) is null;

    protected override async Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(new JsonObject { ["message"] = message }.ToJsonString());
    }

    // The base class's HTTP flow never runs (HandleAsync is the WebSocket session below), so its hooks are not used.
    protected override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error) => throw new NotSupportedException(HttpFlowUnused);

    protected override string StreamContentType => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] Completion(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamStart(string id, NativeReply reply) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] TextFrame(string id, NativeReply reply, int index) => throw new NotSupportedException(HttpFlowUnused);

    protected override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamEnd(string id, NativeReply reply, int completionTokens) => throw new NotSupportedException(HttpFlowUnused);

    protected override byte[] StreamError(string id) => throw new NotSupportedException(HttpFlowUnused);

    /// <summary>The error frame for a queued <see cref="FakeFault.Status"/>.</summary>
    internal static int CodeOf(FakeFault.Status status) => status.Code >= 10000 ? status.Code : KindOf(status.Code) switch
    {
        FakeErrorKind.Auth => 11200,
        FakeErrorKind.RateLimit => 11202,
        FakeErrorKind.Quota => 11201,
        FakeErrorKind.Overloaded => 11203,
        FakeErrorKind.Server => 10700,
        _ => 10163,
    };

    [GeneratedRegex("^x[45]_[a-z0-9]+(_[a-z0-9]+)*$")]
    private static partial Regex FeaturedVoice();

    private sealed class Invalid(int code, string message) : Exception(message)
    {
        public int Code { get; } = code;
    }
}
