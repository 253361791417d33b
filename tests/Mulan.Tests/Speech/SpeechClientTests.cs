using System.ClientModel;
using System.Text.Json.Nodes;
using Mulan.Tests.Gateway;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Audio;

namespace Mulan.Tests.Speech;

/// <summary>Transcription and speech through Mulan with clients nobody here wrote: the official OpenAI .NET SDK and the
/// <c>openai</c> npm package, unmodified, pointed at Mulan's <c>/v1</c>.</summary>
public sealed class SpeechClientTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _key = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(SpeechTestKit.Catalog);
        _key = await _host.CreateKeyAsync(new { name = "sdk" });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task OpenAI_dotnet_sdk_transcribes_and_speaks()
    {
        var client = new OpenAIClient(new ApiKeyCredential(_key), new OpenAIClientOptions { Endpoint = _host.V1 });
        var audio = client.GetAudioClient("asr");
        using var wav = new MemoryStream(SpeechTestKit.Tone(1.5));
        AudioTranscription transcription = await audio.TranscribeAudioAsync(wav, "meeting.wav",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Verbose, Language = "en" });
        Assert.Equal("fake transcript of 48044 bytes of wav audio lasting 1.50 seconds in en", transcription.Text);
        Assert.Equal(TimeSpan.FromSeconds(1.5), transcription.Duration);
        Assert.Equal(1.5, Assert.Single(transcription.Segments).EndTime.TotalSeconds);

        BinaryData speech = await client.GetAudioClient("tts").GenerateSpeechAsync("Hello, 木蘭", GeneratedSpeechVoice.Nova,
            new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav, SpeedRatio = 1.25f });
        Assert.Equal(44 + (9 * 960 * 2), speech.ToArray().Length);
        Assert.True(speech.ToArray().AsSpan().StartsWith("RIFF"u8));

        var records = await _host.UsageRecordsAsync();
        Assert.Equal(["audio.speech", "audio.transcriptions"], records.Select(r => r["endpoint"]!.GetValue<string>()));
        var sent = _host.Vendor.Requests.Single(r => r.Path == "/v1/audio/speech");
        Assert.Equal(1.25, JsonNode.Parse(sent.Body.AsSpan())!["speed"]!.GetValue<double>());
    }

    [Fact]
    public async Task Openai_npm_package_transcribes_and_speaks()
    {
        var file = Path.Combine(_host.DataDirectory, "clip.wav");
        await File.WriteAllBytesAsync(file, SpeechTestKit.Tone(2));
        var (code, output) = await NodeScripts.RunAsync("openai-audio-client.mjs",
            new() { ["MULAN_BASE_URL"] = _host.V1.ToString().TrimEnd('/'), ["MULAN_KEY"] = _key, ["AUDIO_FILE"] = file });
        Assert.True(code == 0, output);
        var result = JsonNode.Parse(output.Trim().Split('\n')[^1])!;
        Assert.Equal("fake transcript of 64044 bytes of wav audio lasting 2.00 seconds", result["transcription"]!.GetValue<string>());
        Assert.Equal(44 + (5 * 960 * 2), result["speechBytes"]!.GetValue<int>());
        Assert.Equal("unknown_voice", result["error"]!["code"]!.GetValue<string>());
        Assert.Equal(400, result["error"]!["status"]!.GetValue<int>());
    }
}
