using System.Net;
using Mulan.Tests.Support;

namespace Mulan.Tests.Speech;

/// <summary>The local engine <c>whisper</c> needs a model file the administrator provides; without one it is unavailable
/// (and a route falls back), and a configured path that does not exist stops the server at start.</summary>
public sealed class WhisperEngineTests
{
    private const string Catalog = """
        {
          "providers": [ { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" } ],
          "models": [
            { "name": "asr", "kind": "transcription", "deployments": [
                { "provider": "local", "model": "whisper", "price": { "currency": "USD", "perSecond": 0 } },
                { "provider": "fake", "model": "whisper-1", "price": { "currency": "USD", "perSecond": 0.0001 } } ] }
          ]
        }
        """;

    [Fact]
    public async Task Without_a_model_file_whisper_is_unavailable_and_the_route_falls_back()
    {
        await using var host = await MulanHost.StartAsync(Catalog);
        using var client = host.Client(await host.CreateKeyAsync());
        using var response = await client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fake", response.Headers.GetValues("x-mulan-provider").Single());
        Assert.Contains("provider local failed (overloaded)", host.Logs.Text);
    }

    [Fact]
    public async Task A_model_path_that_does_not_exist_is_refused_at_start()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => MulanHost.StartAsync(Catalog, b => b.Configuration["Speech:WhisperModelPath"] = "/nonexistent/ggml-base.bin"));
        Assert.Contains("Speech:WhisperModelPath", e.Message);
    }
}
