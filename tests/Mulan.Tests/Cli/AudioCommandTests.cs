using System.Text.Json.Nodes;
using Mulan.Tests.Speech;
using Mulan.Tests.Support;

namespace Mulan.Tests.Cli;

/// <summary>The real <c>mulan audio transcribe</c>, <c>mulan audio speak</c> and <c>mulan ocr</c> against a running server.</summary>
public sealed class AudioCommandTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private Dictionary<string, string?> _env = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(SpeechTestKit.Catalog);
        _env = new Dictionary<string, string?> { ["MULAN_URL"] = _host.BaseUrl.ToString(), ["MULAN_KEY"] = await _host.CreateKeyAsync(new { name = "cli" }) };
        _dir = Directory.CreateTempSubdirectory("mulan-audio-cli").FullName;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await MulanProcess.RunAsync(args, _env);
        Assert.True(code == 0, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return stdout;
    }

    [Fact]
    public async Task Transcribe_and_speak_through_the_named_or_first_route()
    {
        var clip = Path.Combine(_dir, "clip.wav");
        await File.WriteAllBytesAsync(clip, SpeechTestKit.Tone(1));
        Assert.Equal("fake transcript of 32044 bytes of wav audio lasting 1.00 seconds in en\n", await OkAsync("audio", "transcribe", clip, "--model", "asr", "--language", "en"));
        Assert.StartsWith("1\n00:00:00,000 --> 00:00:01,000\n", await OkAsync("audio", "transcribe", clip, "--model", "asr", "--format", "srt"));

        var output = Path.Combine(_dir, "hello.wav");
        var said = await OkAsync("audio", "speak", "Hello", "-o", output, "--model", "tts");
        Assert.Contains("cost 0.000075 USD", said);
        Assert.Equal(44 + (5 * 960 * 2), new FileInfo(output).Length);
        Assert.False(File.Exists(output + ".part"));
        Assert.Equal(["audio.speech", "audio.transcriptions", "audio.transcriptions"], (await _host.UsageRecordsAsync()).Select(r => r["endpoint"]!.GetValue<string>()));
    }

    [SpeechFact]
    public async Task Ocr_prints_each_page_as_markdown()
    {
        var png = Path.Combine(_dir, "scan.png");
        await File.WriteAllBytesAsync(png, Knowledge.Parsing.OcrSample.Png);
        // No --model: the first ocr route this key may use (ocr-local).
        var text = await OkAsync("ocr", png);
        Assert.Contains("Mulan OCR sample 2025", text);
        var json = JsonNode.Parse(await OkAsync("ocr", png, "--json"))!;
        Assert.Equal(1, json["usage"]!["pages"]!.GetValue<int>());
    }

    [Fact]
    public async Task Usage_errors_send_nothing()
    {
        foreach (var args in new[]
                 {
                     new[] { "audio", "speak", "hi" },
                     ["audio", "speak", "hi", "-o", Path.Combine(_dir, "x.midi")],
                     ["audio", "speak", "hi", "-o", Path.Combine(_dir, "x.mp3"), "--speed", "9"],
                     ["audio", "transcribe", Path.Combine(_dir, "missing.wav")],
                     ["audio", "transcribe", Path.Combine(_dir, "missing.wav"), "--format", "docx"],
                     ["ocr", Path.Combine(_dir, "missing.png")],
                 })
        {
            var (code, stdout, stderr) = await MulanProcess.RunAsync(args, _env);
            Assert.True(code == 1, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        }
        Assert.Empty(await _host.UsageRecordsAsync());
    }
}
