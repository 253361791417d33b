using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Hunyuan;
using Mulan.Gateway.Catalog;

namespace Mulan.Speech.Adapters.Tencent;

/// <summary>
/// Tencent Cloud API 3.0 speech and OCR: ASR <c>SentenceRecognition</c> (一句话识别, 2019-06-14, service <c>asr</c>) and
/// OCR <c>GeneralBasicOCR</c> (2018-11-19, service <c>ocr</c>), each a TC3-signed <c>POST /</c> (<see cref="Tc3Signer"/>).
/// The provider's <c>apiKey</c> is <c>SecretId:SecretKey</c>; a region goes in its <c>X-TC-Region</c> header. With the
/// default base URL each product has its own host (<c>asr.tencentcloudapi.com</c>, <c>ocr.tencentcloudapi.com</c>);
/// any other base URL serves both. Errors come in HTTP 200 bodies, <c>{"Response":{"Error":{Code,Message}}}</c>.
/// </summary>
public sealed class TencentCloudAdapter(TimeProvider time) : ITranscriptionAdapter, IOcrAdapter
{
    public const string AsrVersion = "2019-06-14";
    public const string OcrVersion = "2018-11-19";
    public const string AsrAction = "SentenceRecognition";
    public const string OcrAction = "GeneralBasicOCR";
    public const string ContentType = "application/json";
    public const string DefaultHost = "tencentcloudapi.com";

    /// <summary>SentenceRecognition's limits (cloud.tencent.com/document/product/1093/35646): 60 s of audio, 3 MB after base64.</summary>
    public static readonly TimeSpan MaxAudio = TimeSpan.FromSeconds(60);
    public const int MaxAudioBase64 = 3 * 1024 * 1024;

    /// <summary>GeneralBasicOCR's limit (cloud.tencent.com/document/api/866/33526): the image ≤ 7 MB after base64.</summary>
    public const int MaxImageBase64 = 7 * 1024 * 1024;

    /// <summary>The 16 kHz engines by ISO-639-1 language (SentenceRecognitionRequest.EngSerViceType in the API reference).</summary>
    private static readonly Dictionary<string, string> EngineOfLanguage = new(StringComparer.OrdinalIgnoreCase)
    {
        ["zh"] = "16k_zh", ["en"] = "16k_en", ["yue"] = "16k_yue", ["ja"] = "16k_ja", ["ko"] = "16k_ko", ["vi"] = "16k_vi",
        ["ms"] = "16k_ms", ["id"] = "16k_id", ["fil"] = "16k_fil", ["th"] = "16k_th", ["pt"] = "16k_pt", ["tr"] = "16k_tr",
        ["ar"] = "16k_ar", ["es"] = "16k_es", ["hi"] = "16k_hi", ["fr"] = "16k_fr", ["de"] = "16k_de",
    };

    /// <summary>Without a language and without an engine as the model: Chinese, English and Cantonese in one engine.</summary>
    public const string DefaultEngine = "16k_zh-PY";

    public WireProtocol Protocol => WireProtocol.TencentCloud;

    public async Task<Transcript> TranscribeAsync(MediaCall call, TranscriptionInput input, CancellationToken ct)
    {
        if (input.Duration > MaxAudio)
        {
            throw VendorError.BadRequest($"Tencent Cloud SentenceRecognition takes at most {MaxAudio.TotalSeconds:0} s of audio; this is {input.Duration.TotalSeconds:0.0} s");
        }
        var data = Convert.ToBase64String(input.Pcm16k.Span);
        if (data.Length > MaxAudioBase64)
        {
            throw VendorError.BadRequest("Tencent Cloud SentenceRecognition takes at most 3 MB of base64 audio");
        }
        var (engine, language) = Engine(call.Deployment.VendorModel, input.Language);
        var body = new JsonObject
        {
            ["EngSerViceType"] = engine,
            ["SourceType"] = 1,
            // Raw 16 kHz 16-bit mono PCM, as the 16k engines take it (VoiceFormat "pcm").
            ["VoiceFormat"] = "pcm",
            ["Data"] = data,
            ["DataLen"] = input.Pcm16k.Length,
            // 2: word timestamps including punctuation, so sentences can be cut at their final mark.
            ["WordInfo"] = 2,
        };
        var response = await PostAsync(call, "asr", AsrAction, AsrVersion, body, ct);
        var text = TencentCloudErrors.Text(response["Result"]) ?? throw VendorError.Server("Tencent Cloud ASR answered without Result");
        return new Transcript(text, language, Segments(response["WordList"] as JsonArray));
    }

    /// <summary>The engine: the deployment's model when it names one (<c>16k_zh</c>, <c>8k_en</c>…), else by the language.</summary>
    public static (string Engine, string? Language) Engine(string vendorModel, string? language)
    {
        if (vendorModel.StartsWith("16k_", StringComparison.Ordinal) || vendorModel.StartsWith("8k_", StringComparison.Ordinal))
        {
            var named = vendorModel.Split('_', 2)[1];
            return (vendorModel, language ?? (EngineOfLanguage.ContainsKey(named) ? named : null));
        }
        if (language is null)
        {
            return (DefaultEngine, null);
        }
        return EngineOfLanguage.TryGetValue(language, out var engine)
            ? (engine, language.ToLowerInvariant())
            : throw VendorError.BadRequest($"Tencent Cloud SentenceRecognition has no engine for language '{language}'");
    }

    /// <summary>WordList (times in ms) → sentences, cut after a sentence-final mark.</summary>
    public static IReadOnlyList<TranscriptSegment> Segments(JsonArray? words)
    {
        var segments = new List<TranscriptSegment>();
        if (words is null)
        {
            return segments;
        }
        var text = new System.Text.StringBuilder();
        double? start = null;
        double end = 0;
        foreach (var word in words)
        {
            var w = TencentCloudErrors.Text(word?["Word"]) ?? "";
            var from = Number(word?["StartTime"]) / 1000.0;
            var to = Number(word?["EndTime"]) / 1000.0;
            start ??= from;
            end = Math.Max(end, to);
            // English words come one by one; Chinese ones join without spaces.
            if (text.Length > 0 && IsLatin(text[^1]) && w.Length > 0 && IsLatin(w[0]))
            {
                text.Append(' ');
            }
            text.Append(w);
            if (w.Length > 0 && w[^1] is '。' or '！' or '？' or '.' or '!' or '?')
            {
                segments.Add(new TranscriptSegment(start.Value, end, text.ToString()));
                text.Clear();
                start = null;
            }
        }
        if (text.Length > 0 && start is { } s)
        {
            segments.Add(new TranscriptSegment(s, end, text.ToString()));
        }
        return segments;
    }

    private static bool IsLatin(char c) => char.IsAsciiLetterOrDigit(c);

    private static double Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : 0;

    public async Task<OcrPageText> RecognizeAsync(MediaCall call, OcrInput input, CancellationToken ct)
    {
        var image = Convert.ToBase64String(input.Page.Image);
        if (image.Length > MaxImageBase64)
        {
            throw VendorError.BadRequest($"Tencent Cloud GeneralBasicOCR takes images of at most 7 MB after base64; page {input.Page.Index + 1} is {image.Length / 1048576.0:0.0} MB");
        }
        var body = new JsonObject { ["ImageBase64"] = image, ["LanguageType"] = LanguageType(input.Languages) };
        JsonObject response;
        try
        {
            response = await PostAsync(call, "ocr", OcrAction, OcrVersion, body, ct);
        }
        catch (VendorError e) when (e.Message.Contains("FailedOperation.ImageNoText", StringComparison.Ordinal))
        {
            // "No text in the image" is an answer, not a failure: the page is empty (and falling back would not help).
            return new OcrPageText("", "");
        }
        var lines = new List<OcrLine>();
        foreach (var detection in response["TextDetections"] as JsonArray ?? [])
        {
            var box = detection?["ItemPolygon"];
            lines.Add(new OcrLine(TencentCloudErrors.Text(detection?["DetectedText"]) ?? "",
                Number(box?["X"]), Number(box?["Y"]), Number(box?["Width"]), Number(box?["Height"])));
        }
        // TextDetections come in reading order (the API reference): kept as they are.
        return OcrLayout.Compose(lines);
    }

    /// <summary><c>zh</c> (Chinese and English, the default) unless only other languages are asked for: then <c>auto</c>.</summary>
    public static string LanguageType(IReadOnlyList<string> languages) =>
        languages.Count == 0 || languages.Any(l => l.StartsWith("zh", StringComparison.OrdinalIgnoreCase)) ? "zh" : "auto";

    /// <summary>Where a product's requests go: its own host under the default base URL, else the base URL's origin.</summary>
    public static Uri Endpoint(Uri baseUrl, string product) =>
        string.Equals(baseUrl.Host, DefaultHost, StringComparison.OrdinalIgnoreCase)
            ? new Uri($"https://{product}.{DefaultHost}/")
            : new Uri(baseUrl, "/");

    private async Task<JsonObject> PostAsync(MediaCall call, string service, string action, string version, JsonObject body, CancellationToken ct)
    {
        var provider = call.Deployment.Provider;
        var (secretId, secretKey) = HunyuanAdapter.Credentials(provider.ApiKey);
        var uri = Endpoint(provider.BaseUrl, service);
        var host = uri.Authority;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var signature = Tc3Signer.Sign(secretId, secretKey, service, host, action, ContentType, bytes, timestamp);
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Version = System.Net.HttpVersion.Version11 };
        request.Content = new ByteArrayContent(bytes);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        // What was signed is what is sent: the Host header is set, not left to the handler.
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);
        request.Headers.TryAddWithoutValidation("X-TC-Action", action);
        request.Headers.TryAddWithoutValidation("X-TC-Version", version);
        request.Headers.TryAddWithoutValidation("X-TC-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("x-mulan-request-id", call.RequestId);
        foreach (var (name, value) in provider.Headers)
        {
            // X-TC-Region (and X-TC-Token for temporary keys) are not signed: they pass as configured.
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Options.Set(Gateway.Forwarding.UpstreamCaller.ConnectTimeoutOption, call.ConnectTimeout);
        using var response = await call.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var limit = response.IsSuccessStatusCode ? call.MaxResponseBytes : 64 * 1024;
        var raw = await GatewayProxy.ReadLimitedAsync(response.Content, limit, ct)
            ?? throw VendorError.Server($"Tencent Cloud {service}'s response exceeded {limit} bytes");
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(raw);
        }
        catch (JsonException)
        {
            json = null;
        }
        if (TencentCloudErrors.ErrorIn(json, service) is { } error)
        {
            throw error;
        }
        if (!response.IsSuccessStatusCode)
        {
            throw VendorError.ForStatus((int)response.StatusCode, $"Tencent Cloud {service}: HTTP {(int)response.StatusCode}", VendorHttp.RetryAfter(response));
        }
        return json?["Response"] as JsonObject ?? throw VendorError.Server($"Tencent Cloud {service} answered with a body that is not an API 3.0 response");
    }
}
