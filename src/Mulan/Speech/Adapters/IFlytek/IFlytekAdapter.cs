using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Spark;
using Mulan.Gateway.Catalog;

namespace Mulan.Speech.Adapters.IFlytek;

/// <summary>
/// iFlytek dictation (IAT, <c>/v2/iat</c>) and online synthesis (TTS, <c>/v2/tts</c>) over signed WebSockets
/// (xfyun.cn/doc/asr/voicedictation/API.html, xfyun.cn/doc/tts/online_tts/API.html). The provider's <c>apiKey</c> is
/// <c>APPID:APIKey:APISecret</c>. With the default base URL dictation goes to <c>iat-api.xfyun.cn</c> and synthesis to
/// <c>tts-api.xfyun.cn</c>; any other base URL serves both paths (ws:// for http, wss:// for https).
/// </summary>
public sealed class IFlytekAdapter(TimeProvider time) : ITranscriptionAdapter, ISpeechAdapter
{
    public const string IatPath = "/v2/iat";
    public const string TtsPath = "/v2/tts";

    /// <summary>The audio per frame the IAT document recommends (40 ms of 16 kHz 16-bit mono).</summary>
    public const int FrameBytes = 1280;

    /// <summary>IAT takes at most 60 s of audio per session; longer audio runs as consecutive sessions.</summary>
    public const int MaxSessionBytes = 60 * 32_000;

    /// <summary>TTS refuses a <c>data.text</c> whose base64 reaches 8000 bytes: 5997 UTF-8 bytes encode to 7996.</summary>
    public const int MaxTextBytes = 5997;

    public const int SampleRate = 16_000;
    private const string AudioFormat = "audio/L16;rate=16000";

    public WireProtocol Protocol => WireProtocol.IFlytek;

    /// <summary>Splits the provider key <c>APPID:APIKey:APISecret</c>.</summary>
    /// <exception cref="VendorError">the key does not have exactly three non-empty parts (the key itself is never quoted).</exception>
    public static (string AppId, string ApiKey, string ApiSecret) Credentials(string? providerKey) => SparkUrlSigner.Credentials(providerKey, "iFlytek");

    /// <summary>The socket base (<c>wss://host[:port]</c>) and path for an IAT or TTS session.</summary>
    public static (Uri SocketBase, string Path) Endpoint(Uri baseUrl, string path)
    {
        var defaultUrl = new Uri(ProviderKind.All["iflytek"].DefaultBaseUrl!);
        if (baseUrl.GetLeftPart(UriPartial.Authority).Equals(defaultUrl.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
            && baseUrl.AbsolutePath.TrimEnd('/').Length == 0)
        {
            return (new Uri(path == TtsPath ? "wss://tts-api.xfyun.cn" : "wss://iat-api.xfyun.cn"), path);
        }
        var scheme = baseUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        return (new Uri($"{scheme}://{baseUrl.Authority}"), baseUrl.AbsolutePath.TrimEnd('/') + path);
    }

    // ---- Dictation ----

    /// <summary>The IAT <c>language</c> and <c>accent</c> for OpenAI's language code (null = Mandarin).</summary>
    /// <exception cref="VendorError">a language iat-api does not recognise (minor languages live on another host).</exception>
    public static (string Language, string Accent, string Reported) Dictation(string vendorModel, string? language)
    {
        if (!vendorModel.Equals("iat", StringComparison.OrdinalIgnoreCase))
        {
            throw VendorError.NoModel($"iFlytek dictation has no model '{vendorModel}' (use iat)");
        }
        var code = (language ?? "zh").Trim().ToLowerInvariant();
        return code switch
        {
            "zh" or "zh-cn" or "zh-hans" or "cmn" => ("zh_cn", "mandarin", "zh"),
            "yue" or "zh-hk" or "zh-yue" => ("zh_cn", "cantonese", "yue"),
            "en" or "en-us" or "en-gb" => ("en_us", "mandarin", "en"),
            _ => throw VendorError.BadRequest($"iFlytek dictation takes the languages zh, yue and en, not '{language}'"),
        };
    }

    public async Task<Transcript> TranscribeAsync(MediaCall call, TranscriptionInput input, CancellationToken ct)
    {
        var (appId, apiKey, apiSecret) = Credentials(call.Deployment.Provider.ApiKey);
        var (language, accent, reported) = Dictation(call.Deployment.VendorModel, input.Language);
        if (input.Pcm16k.Length < 2)
        {
            throw VendorError.BadRequest("the audio is empty");
        }
        var (socketBase, path) = Endpoint(call.Deployment.Provider.BaseUrl, IatPath);
        var text = new StringBuilder();
        var segments = new List<TranscriptSegment>();
        long used = 0;
        double offset = 0;
        foreach (var piece in IFlytekText.SplitAudio(input.Pcm16k, MaxSessionBytes))
        {
            var uri = IFlytekSocket.Sign(socketBase, path, apiKey, apiSecret, time);
            await using var socket = await IFlytekSocket.ConnectAsync(call, uri, time, ct);
            socket.Charge(used);
            var session = await DictateAsync(socket, appId, language, accent, piece, ct);
            used = socket.Read;
            var said = session.Text;
            if (text.Length > 0 && said.Length > 0 && language == "en_us")
            {
                text.Append(' ');
            }
            text.Append(said);
            segments.AddRange(session.Segments(offset));
            offset += piece.Length / 32_000.0;
        }
        return new Transcript(text.ToString(), reported, segments);
    }

    /// <summary>
    /// One IAT session: the audio is sent as fast as the socket takes it (no 40 ms pacing: the audio is a file, not a
    /// microphone) while the results are read, since the vendor answers during the upload.
    /// </summary>
    private static async Task<IatTranscript> DictateAsync(IFlytekSocket socket, string appId, string language, string accent, ReadOnlyMemory<byte> pcm, CancellationToken ct)
    {
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var send = SendAudioAsync(socket, appId, language, accent, pcm, sending.Token);
        try
        {
            var transcript = new IatTranscript();
            while (true)
            {
                var frame = await socket.ReceiveAsync(ct)
                    ?? throw new IOException("the iFlytek dictation socket closed before the last result (data.status 2)");
                IFlytekSocket.ThrowIfError(frame);
                if (frame["data"]?["result"] is JsonObject result)
                {
                    transcript.Add(result);
                }
                if (Int(frame["data"]?["status"]) == 2)
                {
                    break;
                }
            }
            // The last result normally follows our last frame; should the engine end the session earlier (its end-of-speech
            // detection after vad_eos of silence), what it recognised is the answer and the rest of the upload is moot.
            await StopAsync(sending, send);
            return transcript;
        }
        catch
        {
            await StopAsync(sending, send);
            throw;
        }
    }

    private static async Task StopAsync(CancellationTokenSource sending, Task send)
    {
        if (!send.IsCompleted)
        {
            await sending.CancelAsync();
        }
        try
        {
            await send;
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            // The reader's outcome is the one to report; the upload only stopped because of it.
        }
    }

    private static async Task SendAudioAsync(IFlytekSocket socket, string appId, string language, string accent, ReadOnlyMemory<byte> pcm, CancellationToken ct)
    {
        var first = pcm[..Math.Min(FrameBytes, pcm.Length)];
        var frame = new JsonObject
        {
            ["common"] = new JsonObject { ["app_id"] = appId },
            ["business"] = new JsonObject
            {
                ["language"] = language,
                ["domain"] = "iat",
                ["accent"] = accent,
                // A file may pause for longer than the 2 s default end-of-speech silence: the maximum keeps the session
                // open over pauses instead of ending it mid-file.
                ["vad_eos"] = 10_000,
            },
            ["data"] = Data(0, first),
        };
        if (language == "zh_cn" && accent == "mandarin")
        {
            // Dynamic correction (offered for Mandarin only): later results replace earlier ones (pgs/rg), which
            // IatTranscript assembles.
            frame["business"]!["dwa"] = "wpgs";
        }
        await socket.SendAsync(frame, ct);
        for (var at = first.Length; at < pcm.Length; at += FrameBytes)
        {
            await socket.SendAsync(new JsonObject { ["data"] = Data(1, pcm.Slice(at, Math.Min(FrameBytes, pcm.Length - at))) }, ct);
        }
        await socket.SendAsync(new JsonObject { ["data"] = Data(2, ReadOnlyMemory<byte>.Empty) }, ct);
    }

    private static JsonObject Data(int status, ReadOnlyMemory<byte> audio) => new()
    {
        ["status"] = status,
        ["format"] = AudioFormat,
        ["encoding"] = "raw",
        ["audio"] = Convert.ToBase64String(audio.Span),
    };

    // ---- Synthesis ----

    public string? ResolveVoice(Deployment deployment, string voice, string text) => IFlytekVoices.Resolve(voice);

    public IReadOnlyCollection<string> Voices(Deployment deployment) => [.. IFlytekVoices.Basic.Order(StringComparer.Ordinal)];

    /// <summary>OpenAI's speed (0.25–4, 1 = normal) on iFlytek's 0–100 (50 = normal), logarithmically: 0.25 → 0, 0.5 → 25,
    /// 1 → 50, 2 → 75, 4 → 100 (iFlytek documents no multiple for its ends, so halving and doubling are spread evenly).</summary>
    public static int Speed(double speed) =>
        (int)Math.Round(50 + 25 * Math.Log2(Math.Clamp(double.IsFinite(speed) && speed > 0 ? speed : 1, 0.25, 4)));

    /// <summary>
    /// Synthesizes as 16 kHz PCM (<c>aue: raw</c>). Text over <see cref="MaxTextBytes"/> runs as consecutive sessions cut at
    /// sentence ends, their audio streamed one after another. The first session is open and its first audio frame read
    /// before this returns, so that a refusal can still fall back.
    /// </summary>
    public async Task<SpeechAudio> SynthesizeAsync(MediaCall call, SpeechInput input, CancellationToken ct)
    {
        var credentials = Credentials(call.Deployment.Provider.ApiKey);
        if (input.Text.Trim().Length == 0)
        {
            throw VendorError.BadRequest("the text to speak is empty");
        }
        var pieces = IFlytekText.Split(input.Text, MaxTextBytes);
        var speed = Speed(input.Speed);
        var (socket, first) = await OpenSynthesisAsync(call, credentials, pieces[0], input.Voice, speed, 0, ct);
        return new SpeechAudio(AudioEncoding.Pcm16, SampleRate, StreamAsync(call, credentials, pieces, input.Voice, speed, socket, first, ct));
    }

    private async Task<(IFlytekSocket Socket, ReadOnlyMemory<byte> First)> OpenSynthesisAsync(
        MediaCall call, (string AppId, string ApiKey, string ApiSecret) credentials, string text, string voice, int speed, long used, CancellationToken ct)
    {
        var (socketBase, path) = Endpoint(call.Deployment.Provider.BaseUrl, TtsPath);
        var uri = IFlytekSocket.Sign(socketBase, path, credentials.ApiKey, credentials.ApiSecret, time);
        var socket = await IFlytekSocket.ConnectAsync(call, uri, time, ct);
        try
        {
            socket.Charge(used);
            await socket.SendAsync(new JsonObject
            {
                ["common"] = new JsonObject { ["app_id"] = credentials.AppId },
                ["business"] = new JsonObject
                {
                    ["aue"] = "raw",
                    ["auf"] = AudioFormat,
                    ["vcn"] = voice,
                    ["speed"] = speed,
                    ["volume"] = 50,
                    ["pitch"] = 50,
                    ["tte"] = "UTF8",
                },
                ["data"] = new JsonObject { ["status"] = 2, ["text"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) },
            }, ct);
            // The first frame with audio (or the last frame) decides whether the session works.
            while (true)
            {
                var (audio, last) = await NextAudioAsync(socket, ct);
                if (audio.Length > 0 || last)
                {
                    return (last ? socket.Finished() : socket, audio);
                }
            }
        }
        catch
        {
            await socket.DisposeAsync();
            throw;
        }
    }

    private async IAsyncEnumerable<ReadOnlyMemory<byte>> StreamAsync(MediaCall call, (string AppId, string ApiKey, string ApiSecret) credentials,
        IReadOnlyList<string> pieces, string voice, int speed, IFlytekSocket socket, ReadOnlyMemory<byte> first, [EnumeratorCancellation] CancellationToken ct)
    {
        var current = socket;
        try
        {
            for (var i = 0; ; i++)
            {
                if (first.Length > 0)
                {
                    yield return first;
                }
                while (!current.IsFinished)
                {
                    var (audio, last) = await NextAudioAsync(current, ct);
                    if (last)
                    {
                        current.Finished();
                    }
                    if (audio.Length > 0)
                    {
                        yield return audio;
                    }
                }
                if (i + 1 == pieces.Count)
                {
                    yield break;
                }
                var used = current.Read;
                await current.DisposeAsync();
                (current, first) = await OpenSynthesisAsync(call, credentials, pieces[i + 1], voice, speed, used, ct);
            }
        }
        finally
        {
            await current.DisposeAsync();
        }
    }

    private static async Task<(ReadOnlyMemory<byte> Audio, bool Last)> NextAudioAsync(IFlytekSocket socket, CancellationToken ct)
    {
        var frame = await socket.ReceiveAsync(ct)
            ?? throw new IOException("the iFlytek synthesis socket closed before the last audio (data.status 2)");
        IFlytekSocket.ThrowIfError(frame);
        var data = frame["data"];
        ReadOnlyMemory<byte> audio = ReadOnlyMemory<byte>.Empty;
        if (data?["audio"] is JsonValue value && value.TryGetValue<string>(out var base64) && base64.Length > 0)
        {
            try
            {
                audio = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                throw VendorError.Server("iFlytek sent audio that is not base64");
            }
        }
        return (audio, Int(data?["status"]) == 2);
    }

    private static int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
}
