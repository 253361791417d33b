using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Speech;

/// <summary>Fallback between speech vendors through <c>/v1</c>: a native vendor (iFlytek over its signed WebSocket) that
/// fails passes the request to the next deployment (OpenAI-compatible), which serves and is the one charged.</summary>
public sealed class VendorFallbackTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "xfyun", "kind": "iflytek", "baseUrl": "{ORIGIN}", "apiKey": "fakeapp:fakekey:{KEY}" },
            { "name": "tencent", "kind": "tencent-cloud", "baseUrl": "{ORIGIN}", "apiKey": "AKIDfake:{KEY}" },
            { "name": "aliyun", "kind": "dashscope", "baseUrl": "{ORIGIN}", "apiKey": "{KEY}" }
          ],
          "models": [
            { "name": "asr", "kind": "transcription", "deployments": [
                { "provider": "xfyun", "model": "iat", "price": { "currency": "CNY", "perSecond": 0.002 } },
                { "provider": "fake", "model": "whisper-1", "price": { "currency": "USD", "perSecond": 0.0001 } } ] },
            { "name": "tts", "kind": "speech", "deployments": [
                { "provider": "xfyun", "model": "tts", "price": { "currency": "CNY", "perMillionCharacters": 30 } },
                { "provider": "fake", "model": "tts-1", "price": { "currency": "USD", "perMillionCharacters": 15 } } ] },
            { "name": "ocr", "kind": "ocr", "deployments": [
                { "provider": "tencent", "model": "GeneralBasicOCR", "price": { "currency": "CNY", "perPage": 0.01 } },
                { "provider": "local", "model": "tesseract", "price": { "currency": "CNY", "perPage": 0 } } ] },
            { "name": "asr-tencent", "kind": "transcription", "deployments": [ { "provider": "tencent", "model": "16k_zh", "price": { "currency": "CNY", "perSecond": 0.001 } } ] },
            { "name": "asr-aliyun", "kind": "transcription", "deployments": [ { "provider": "aliyun", "model": "paraformer-realtime-v2", "price": { "currency": "CNY", "perSecond": 0.0008 } } ] },
            { "name": "tts-aliyun", "kind": "speech", "deployments": [ { "provider": "aliyun", "model": "cosyvoice-v1", "price": { "currency": "CNY", "perMillionCharacters": 20 } } ] }
          ],
          "exchangeRates": [ { "from": "USD", "to": "CNY", "rate": 7.1 } ]
        }
        """;

    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(Catalog);
        _client = _host.Client(await _host.CreateKeyAsync(new { name = "fallback" }));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task IFlytek_serves_when_healthy_and_is_charged_in_yuan()
    {
        using var response = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(2.5), "a.wav", ("model", "asr")));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("xfyun", response.Headers.GetValues("x-mulan-provider").Single());
        Assert.Contains("2.50秒", JsonNode.Parse(body)!["text"]!.GetValue<string>());
        Assert.Equal("0.005", response.Headers.GetValues("x-mulan-cost").Single());
        Assert.Equal("CNY", response.Headers.GetValues("x-mulan-cost-currency").Single());
    }

    [Fact]
    public async Task A_rate_limited_iflytek_falls_back_to_the_openai_compatible_vendor()
    {
        _host.Vendor.Enqueue(new FakeFault.Status(429));
        using var response = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(2), "a.wav", ("model", "asr")));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("fake", response.Headers.GetValues("x-mulan-provider").Single());
        Assert.StartsWith("fake transcript of 64044 bytes of wav audio", JsonNode.Parse(body)!["text"]!.GetValue<string>());
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal(2, record["attempts"]!.GetValue<int>());
        Assert.Equal(0.0002m, record["cost"]!["amount"]!.GetValue<decimal>());
        Assert.Equal("USD", record["cost"]!["currency"]!.GetValue<string>());
    }

    [Fact]
    public async Task Speech_falls_back_when_iflytek_fails_before_any_audio()
    {
        _host.Vendor.Enqueue(new FakeFault.Status(500));
        using var response = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts", input = "你好", voice = "alloy", response_format = "wav" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fake", response.Headers.GetValues("x-mulan-provider").Single());
        Assert.Equal(44 + (2 * 960 * 2), (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task IFlytek_speech_is_converted_to_what_was_asked()
    {
        using var response = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts", input = "你好，木兰", voice = "xiaoyan", response_format = "wav" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("xfyun", response.Headers.GetValues("x-mulan-provider").Single());
        var wav = await response.Content.ReadAsByteArrayAsync();
        Assert.True(wav.AsSpan().StartsWith("RIFF"u8));
        // The fake speaks 0.1 s per character at 16 kHz: five characters, half a second, whatever the WAV's rate.
        var info = global::Mulan.Speech.Audio.Wav.Read(wav);
        Assert.InRange(info.Duration.TotalSeconds, 0.45, 0.55);
    }

    [Fact]
    public async Task Tencent_and_dashscope_serve_through_the_gateway()
    {
        using var tencent = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1.5), "a.wav", ("model", "asr-tencent")));
        var tencentBody = await tencent.Content.ReadAsStringAsync();
        Assert.True(tencent.StatusCode == HttpStatusCode.OK, tencentBody);
        Assert.Contains("收到48000字节", JsonNode.Parse(tencentBody)!["text"]!.GetValue<string>());
        using var aliyun = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1.5), "a.wav", ("model", "asr-aliyun")));
        var aliyunBody = await aliyun.Content.ReadAsStringAsync();
        Assert.True(aliyun.StatusCode == HttpStatusCode.OK, aliyunBody);
        Assert.Contains("收到48000字节", JsonNode.Parse(aliyunBody)!["text"]!.GetValue<string>());
        using var speech = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts-aliyun", input = "你好", voice = "alloy", response_format = "pcm" });
        Assert.Equal(HttpStatusCode.OK, speech.StatusCode);
        Assert.True((await speech.Content.ReadAsByteArrayAsync()).Length > 0);
        Assert.Equal(["aliyun", "aliyun", "tencent"], (await _host.UsageRecordsAsync()).Select(r => r["provider"]!.GetValue<string>()));
    }

    [SpeechFact]
    public async Task Ocr_falls_back_from_tencent_to_the_local_engine()
    {
        var png = Knowledge.Parsing.OcrSample.Png;
        using var served = await _client.PostAsync("v1/ocr", SpeechTestKit.Form(png, "scan.png", ("model", "ocr")));
        var body = JsonNode.Parse(await served.Content.ReadAsStringAsync())!;
        Assert.Equal("tencent", served.Headers.GetValues("x-mulan-provider").Single());
        Assert.StartsWith($"图像 {png.Length} 字节", body["pages"]![0]!["text"]!.GetValue<string>());
        // The fake's "*fake* #1" is escaped in the Markdown, never markup.
        Assert.Contains("\\*fake\\* #1", body["pages"]![0]!["markdown"]!.GetValue<string>());

        _host.Vendor.Enqueue(new FakeFault.Status(500));
        using var fallback = await _client.PostAsync("v1/ocr", SpeechTestKit.Form(png, "scan.png", ("model", "ocr")));
        var text = JsonNode.Parse(await fallback.Content.ReadAsStringAsync())!["pages"]![0]!["text"]!.GetValue<string>();
        Assert.Equal("local", fallback.Headers.GetValues("x-mulan-provider").Single());
        Assert.Contains("Mulan OCR sample 2025", text);
        var records = await _host.UsageRecordsAsync();
        Assert.Equal([0m, 0.01m], records.Select(r => r["cost"]!["amount"]!.GetValue<decimal>()));
    }
}
