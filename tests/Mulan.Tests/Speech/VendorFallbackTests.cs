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
            { "name": "xfyun", "kind": "iflytek", "baseUrl": "{ORIGIN}", "apiKey": "fakeapp:fakekey:{KEY}" }
          ],
          "models": [
            { "name": "asr", "kind": "transcription", "deployments": [
                { "provider": "xfyun", "model": "iat", "price": { "currency": "CNY", "perSecond": 0.002 } },
                { "provider": "fake", "model": "whisper-1", "price": { "currency": "USD", "perSecond": 0.0001 } } ] },
            { "name": "tts", "kind": "speech", "deployments": [
                { "provider": "xfyun", "model": "tts", "price": { "currency": "CNY", "perMillionCharacters": 30 } },
                { "provider": "fake", "model": "tts-1", "price": { "currency": "USD", "perMillionCharacters": 15 } } ] }
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
}
