using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;
using Xunit.Abstractions;

namespace Mulan.Tests.Speech;

/// <summary>
/// The local engines through <c>/v1</c>, nothing leaving the machine: espeak-ng and flite speak sentences of the demo
/// handbook, pocketsphinx transcribes them back (word error rate stated and bounded), and Tesseract reads Simplified and
/// Traditional Chinese rendered with a Noto CJK font (character accuracy stated and bounded).
/// </summary>
public sealed class LocalEngineTests(ITestOutputHelper output) : IAsyncLifetime
{
    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(SpeechTestKit.Catalog);
        // A local-only workspace's key: only the local provider may serve it.
        using var ws = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "offline", localOnly = true });
        var workspace = (await ws.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        _client = _host.Client(await _host.CreateKeyAsync(new { name = "local", workspace }));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<double> RoundTripAsync(string speechModel, string voice, IReadOnlyList<string> sentences)
    {
        var errors = new List<double>();
        foreach (var sentence in sentences)
        {
            using var speech = await _client.PostAsJsonAsync("v1/audio/speech", new { model = speechModel, input = sentence, voice, response_format = "wav" });
            Assert.True(speech.StatusCode == HttpStatusCode.OK, await speech.Content.ReadAsStringAsync());
            var wav = await speech.Content.ReadAsByteArrayAsync();
            using var asr = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(wav, "speech.wav", ("model", "asr-local"), ("language", "en")));
            var body = await asr.Content.ReadAsStringAsync();
            Assert.True(asr.StatusCode == HttpStatusCode.OK, body);
            var heard = JsonNode.Parse(body)!["text"]!.GetValue<string>();
            var wer = SpeechTestKit.WordErrorRate(sentence, heard);
            errors.Add(wer);
            output.WriteLine($"{speechModel}: {wer:P0}  \"{sentence}\" → \"{heard}\"");
        }
        return errors.Average();
    }

    [SpeechFact]
    public async Task Flite_speech_transcribed_by_pocketsphinx_comes_back_with_a_low_word_error_rate()
    {
        var sentences = SpeechTestKit.EnglishSentences(8);
        Assert.True(sentences.Count >= 6, "the demo handbook should give at least 6 sentences");
        var wer = await RoundTripAsync("tts-flite", "alloy", sentences);
        output.WriteLine($"flite → pocketsphinx: mean WER {wer:P1} over {sentences.Count} sentences");
        // Measured 39 % over 12 sentences (names such as Hangzhou and Qingsong are not in pocketsphinx's dictionary).
        Assert.True(wer <= 0.5, $"mean word error rate {wer:P1}");
        // Every request stayed on the local provider.
        Assert.All(await _host.UsageRecordsAsync(), r => Assert.Equal("local", r["provider"]!.GetValue<string>()));
        Assert.Empty(_host.Vendor.Requests);
    }

    [SpeechFact]
    public async Task Espeak_speech_reaches_pocketsphinx_as_speech()
    {
        // espeak-ng's formant voice is far from the speech pocketsphinx's acoustic model was trained on: its word error rate
        // is about 100 % (measured in bench/, "speech" mode, and stated in docs/benchmarks.md), so it is not asserted here.
        // What is asserted is the plumbing: espeak-ng's audio goes through the gateway and is decoded as words, one segment
        // per utterance, within the audio's length.
        var sentence = SpeechTestKit.EnglishSentences(1)[0];
        using var speech = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts-local", input = sentence, voice = "en-us", response_format = "wav" });
        var wav = await speech.Content.ReadAsByteArrayAsync();
        using var asr = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(wav, "speech.wav", ("model", "asr-local"), ("response_format", "verbose_json")));
        var body = JsonNode.Parse(await asr.Content.ReadAsStringAsync())!;
        Assert.True(body["text"]!.GetValue<string>().Split(' ').Length >= 3, body.ToJsonString());
        var duration = body["duration"]!.GetValue<double>();
        Assert.InRange(duration, 2, 10);
        Assert.All(body["segments"]!.AsArray(), s => Assert.InRange(s!["end"]!.GetValue<double>(), 0, duration));
    }

    [SpeechFact]
    public async Task Espeak_speaks_mandarin_and_cantonese()
    {
        foreach (var voice in new[] { "cmn", "yue", "zh-Hant" })
        {
            using var speech = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts-local", input = "歡迎使用木蘭，今天天氣很好。", voice, response_format = "pcm" });
            Assert.Equal(HttpStatusCode.OK, speech.StatusCode);
            var pcm = await speech.Content.ReadAsByteArrayAsync();
            // More than a second of 24 kHz audio for 12 characters.
            Assert.True(pcm.Length > 48_000, $"{voice}: {pcm.Length} bytes");
        }
    }

    private async Task<double> ReadAsync(IReadOnlyList<string> lines, string language)
    {
        var png = await SpeechTestKit.RenderAsync(lines);
        using var response = await _client.PostAsync("v1/ocr", SpeechTestKit.Form(png, "page.png", ("model", "ocr-local"), ("language", language)));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var page = JsonNode.Parse(body)!["pages"]![0]!;
        var text = page["text"]!.GetValue<string>();
        var accuracy = SpeechTestKit.CharacterAccuracy(string.Concat(lines), text);
        output.WriteLine($"{language}: {accuracy:P1} of {string.Concat(lines).Length} characters\n{text}");
        return accuracy;
    }

    [SpeechFact]
    public async Task Tesseract_reads_rendered_simplified_chinese()
    {
        var lines = SpeechTestKit.ChineseLines("employee-handbook.zh-Hans.md", 8);
        Assert.True(lines.Count >= 5, "the demo handbook should give at least 5 lines");
        var accuracy = await ReadAsync(lines, "zh-Hans");
        Assert.True(accuracy >= 0.9, $"character accuracy {accuracy:P1}");
    }

    [SpeechFact]
    public async Task Tesseract_reads_rendered_traditional_chinese()
    {
        var lines = SpeechTestKit.ChineseLines("benefits.zh-Hant.md", 8);
        Assert.True(lines.Count >= 5, "the demo benefits page should give at least 5 lines");
        var accuracy = await ReadAsync(lines, "zh-Hant");
        Assert.True(accuracy >= 0.9, $"character accuracy {accuracy:P1}");
    }

    [SpeechFact]
    public async Task A_scanned_pdf_is_read_page_by_page_and_charged_per_page()
    {
        var first = await SpeechTestKit.RenderAsync(["第一頁：知識庫測試文件"]);
        var second = await SpeechTestKit.RenderAsync(["Page two: quarterly report"]);
        using var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        foreach (var png in new[] { first, second })
        {
            // Placed at 200 dpi, the resolution pages are rendered at (Speech:PdfRenderDpi), as a scanner at 200 dpi would.
            var (w, h) = (System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20)));
            builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4).AddPng(png, new UglyToad.PdfPig.Core.PdfRectangle(40, 700 - (h * 72.0 / 200), 40 + (w * 72.0 / 200), 700));
        }
        using var response = await _client.PostAsync("v1/ocr", SpeechTestKit.Form(builder.Build(), "scan.bin", ("model", "ocr-local")));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var pages = JsonNode.Parse(body)!["pages"]!.AsArray();
        Assert.Equal(2, pages.Count);
        Assert.Contains("知識庫", pages[0]!["text"]!.GetValue<string>());
        Assert.Contains("quarterly report", pages[1]!["text"]!.GetValue<string>());
        Assert.Equal(1, pages[1]!["index"]!.GetValue<int>());
        Assert.Equal("0.02", response.Headers.GetValues("x-mulan-cost").Single());
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal(2m, record["units"]!.GetValue<decimal>());
        Assert.Equal("pages", record["unit"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_local_only_key_cannot_reach_a_vendor_route()
    {
        using var response = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts", input = "hi", voice = "alloy" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("data_residency", await response.Content.ReadAsStringAsync());
        Assert.Empty(_host.Vendor.Requests);
    }

    [SpeechFact]
    public async Task Pocketsphinx_refuses_other_languages_as_not_offered()
    {
        using var response = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr-local"), ("language", "zh")));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("English only", await response.Content.ReadAsStringAsync());
    }
}
