using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Speech;

/// <summary>
/// <c>/v1/audio/transcriptions</c>, <c>/v1/audio/speech</c> and <c>/v1/ocr</c> through the gateway against the fake
/// OpenAI vendor: metering in units, cost headers, one usage record each, fallback, key rules, and bad input refused with
/// nothing forwarded and nothing charged.
/// </summary>
public sealed class SpeechGatewayTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(SpeechTestKit.Catalog);
        _client = _host.Client(await _host.CreateKeyAsync(new { name = "speech" }));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private int AudioRequestsAtVendor => _host.Vendor.Requests.Count(r => r.Path.StartsWith("/v1/audio", StringComparison.Ordinal));

    [Fact]
    public async Task A_transcription_is_forwarded_metered_by_the_second_and_recorded_once()
    {
        using var response = await _client.PostAsync("v1/audio/transcriptions",
            SpeechTestKit.Form(SpeechTestKit.Tone(2.5), "clip.mp3", ("model", "asr"), ("language", "en")));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var json = JsonNode.Parse(body)!;
        // The vendor got the WAV (detected from its content, not the .mp3 name), 2.5 s long.
        Assert.Equal("fake transcript of 80044 bytes of wav audio lasting 2.50 seconds in en", json["text"]!.GetValue<string>());
        Assert.Equal(2.5m, json["usage"]!["seconds"]!.GetValue<decimal>());
        Assert.Equal("0.00025", response.Headers.GetValues("x-mulan-cost").Single());
        Assert.Equal("USD", response.Headers.GetValues("x-mulan-cost-currency").Single());
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal("audio.transcriptions", record["endpoint"]!.GetValue<string>());
        Assert.Equal("ok", record["status"]!.GetValue<string>());
        Assert.Equal(2.5m, record["units"]!.GetValue<decimal>());
        Assert.Equal("seconds", record["unit"]!.GetValue<string>());
        Assert.Equal(0.00025m, record["cost"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(0.0001m, record["price"]!["perSecond"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Transcripts_come_in_every_response_format()
    {
        async Task<string> Get(string format)
        {
            using var r = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1.2), "a.wav", ("model", "asr"), ("response_format", format)));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return await r.Content.ReadAsStringAsync();
        }
        Assert.Equal("fake transcript of 38444 bytes of wav audio lasting 1.20 seconds\n", await Get("text"));
        Assert.Equal("1\n00:00:00,000 --> 00:00:01,200\nfake transcript of 38444 bytes of wav audio lasting 1.20 seconds\n\n", await Get("srt"));
        Assert.StartsWith("WEBVTT\n\n00:00:00.000 --> 00:00:01.200\nfake transcript", await Get("vtt"));
        var verbose = JsonNode.Parse(await Get("verbose_json"))!;
        Assert.Equal(1.2, verbose["duration"]!.GetValue<double>());
        Assert.Equal("english", verbose["language"]!.GetValue<string>());
        Assert.Equal(1.2, verbose["segments"]![0]!["end"]!.GetValue<double>());
    }

    [Fact]
    public async Task An_unreachable_vendor_falls_back_to_the_next_deployment()
    {
        using var response = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr-fallback")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fake", response.Headers.GetValues("x-mulan-provider").Single());
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal(2, record["attempts"]!.GetValue<int>());
        Assert.Equal("fake", record["provider"]!.GetValue<string>());
        Assert.Equal(0.0001m, record["cost"]!["amount"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_vendor_rate_limit_is_answered_as_503_and_charges_nothing()
    {
        _host.Vendor.Enqueue(new FakeFault.Status(429, 3));
        using var response = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("upstream_rate_limited", error["code"]!.GetValue<string>());
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal("upstream_error", record["status"]!.GetValue<string>());
        Assert.Equal(0m, record["cost"]!["amount"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Speech_is_streamed_metered_by_the_character_and_recorded_before_the_audio()
    {
        using var response = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts", input = "你好, Mulan!", voice = "nova", response_format = "wav" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/wav", response.Content.Headers.ContentType!.MediaType);
        var audio = await response.Content.ReadAsByteArrayAsync();
        // 10 characters × 40 ms of 24 kHz 16-bit audio from the fake, passed through as it came.
        Assert.Equal(44 + (10 * 960 * 2), audio.Length);
        Assert.Equal("0.00015", response.Headers.GetValues("x-mulan-cost").Single());
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal("audio.speech", record["endpoint"]!.GetValue<string>());
        Assert.Equal(10m, record["units"]!.GetValue<decimal>());
        Assert.Equal("characters", record["unit"]!.GetValue<string>());
    }

    [SpeechFact]
    public async Task Speech_in_a_format_the_vendor_did_not_send_is_converted()
    {
        // The local engines make PCM; ffmpeg turns it into what was asked.
        foreach (var (format, check) in new (string, Func<byte[], bool>)[]
                 {
                     ("mp3", b => b.AsSpan().StartsWith("ID3"u8) || b[0] == 0xFF),
                     ("opus", b => b.AsSpan().StartsWith("OggS"u8)),
                     ("flac", b => b.AsSpan().StartsWith("fLaC"u8)),
                     ("wav", b => b.AsSpan().StartsWith("RIFF"u8)),
                     ("pcm", b => b.Length > 1000 && b.Length % 2 == 0),
                 })
        {
            using var response = await _client.PostAsJsonAsync("v1/audio/speech", new { model = "tts-local", input = "Hello from Mulan", voice = "alloy", response_format = format });
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, format + ": " + Encoding.UTF8.GetString(bytes));
            Assert.True(check(bytes), $"{format}: not {format} audio ({bytes.Length} bytes)");
        }
    }

    [Fact]
    public async Task A_route_of_another_kind_is_refused_on_each_endpoint()
    {
        using var asChat = await _client.PostAsJsonAsync("v1/chat/completions", new { model = "asr", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.BadRequest, asChat.StatusCode);
        Assert.Contains("model_kind_mismatch", await asChat.Content.ReadAsStringAsync());
        using var chatAsAsr = await _client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "chat")));
        Assert.Equal(HttpStatusCode.BadRequest, chatAsAsr.StatusCode);
        Assert.Contains("model_kind_mismatch", await chatAsAsr.Content.ReadAsStringAsync());
        using var ttsAsOcr = await _client.PostAsync("v1/ocr", SpeechTestKit.Form([0x89, 0x50], "a.png", ("model", "tts")));
        Assert.Contains("model_kind_mismatch", await ttsAsOcr.Content.ReadAsStringAsync());
        Assert.Equal(0, AudioRequestsAtVendor);
    }

    [Fact]
    public async Task A_key_limited_to_other_models_is_refused()
    {
        using var limited = _host.Client(await _host.CreateKeyAsync(new { name = "chat-only", models = new[] { "chat" } }));
        using var response = await limited.PostAsJsonAsync("v1/audio/speech", new { model = "tts", input = "hi", voice = "alloy" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, AudioRequestsAtVendor);
    }

    [Fact]
    public async Task A_budget_holds_the_exact_cost_and_refuses_what_it_cannot_pay()
    {
        // 0.001 USD buys 10 seconds at 0.0001/s: 12 seconds is refused before the vendor hears of it.
        using var budgeted = _host.Client(await _host.CreateKeyAsync(new { name = "small", budget = new { amount = 0.001m, currency = "USD", period = "day" } }));
        using var refused = await budgeted.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(12), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("budget_exceeded", await refused.Content.ReadAsStringAsync());
        Assert.Equal(0, AudioRequestsAtVendor);
        using var served = await budgeted.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(8), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        using var over = await budgeted.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(3), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
        Assert.Equal(1, AudioRequestsAtVendor);
    }

    [Fact]
    public async Task Bad_audio_is_refused_with_nothing_forwarded_or_charged()
    {
        var truncated = SpeechTestKit.Tone(2)[..30_000];
        var cases = new (HttpContent Content, HttpStatusCode Status, string Code)[]
        {
            (SpeechTestKit.Form(Encoding.UTF8.GetBytes("this is a text file, not audio at all....."), "speech.wav", ("model", "asr")), HttpStatusCode.BadRequest, "invalid_audio"),
            (SpeechTestKit.Form([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52], "speech.mp3", ("model", "asr")), HttpStatusCode.BadRequest, "invalid_audio"),
            (SpeechTestKit.Form(truncated, "speech.wav", ("model", "asr")), HttpStatusCode.BadRequest, "invalid_audio"),
            (SpeechTestKit.Form(SpeechTestKit.Tone(2, amplitude: 0), "silence.wav", ("model", "asr")), HttpStatusCode.BadRequest, "audio_silent"),
            (SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr"), ("response_format", "docx")), HttpStatusCode.BadRequest, "response_format"),
            (SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr"), ("temperature", "1.5")), HttpStatusCode.BadRequest, "temperature"),
            (SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr"), ("temperature", "NaN")), HttpStatusCode.BadRequest, "temperature"),
            (SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "asr"), ("language", "english please")), HttpStatusCode.BadRequest, "language"),
            (SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav"), HttpStatusCode.BadRequest, "model"),
            (SpeechTestKit.Form(SpeechTestKit.Tone(1), "a.wav", ("model", "no-such")), HttpStatusCode.NotFound, "model_not_found"),
            (new StringContent("""{"model":"asr"}""", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "invalid_content_type"),
        };
        foreach (var (content, status, code) in cases)
        {
            using var response = await _client.PostAsync("v1/audio/transcriptions", content);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{code}: {(int)response.StatusCode} {body}");
            Assert.Contains(code, body);
        }
        Assert.Equal(0, AudioRequestsAtVendor);
        var records = await _host.UsageRecordsAsync();
        Assert.Equal(cases.Length, records.Count);
        Assert.All(records, r => Assert.Equal(0m, r["cost"]!["amount"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task Audio_beyond_the_configured_size_or_duration_is_413()
    {
        await using var strict = await MulanHost.StartAsync(SpeechTestKit.Catalog, b =>
        {
            b.Configuration["Speech:MaxAudioSeconds"] = "3";
            b.Configuration["Speech:MaxAudioBytes"] = "200000";
        });
        using var client = strict.Client(await strict.CreateKeyAsync());
        using var tooLong = await client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(4), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLong.StatusCode);
        Assert.Contains("audio_too_long", await tooLong.Content.ReadAsStringAsync());
        using var tooBig = await client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(7), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        using var atLimit = await client.PostAsync("v1/audio/transcriptions", SpeechTestKit.Form(SpeechTestKit.Tone(3), "a.wav", ("model", "asr")));
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        Assert.Single(strict.Vendor.Requests, r => r.Path == "/v1/audio/transcriptions");
    }

    [Fact]
    public async Task Bad_speech_requests_are_refused_with_nothing_forwarded()
    {
        var cases = new (string Body, HttpStatusCode Status, string Code)[]
        {
            ("""{"model":"tts","input":"hi","voice":"robot-9000"}""", HttpStatusCode.BadRequest, "unknown_voice"),
            ("""{"model":"tts","input":"","voice":"alloy"}""", HttpStatusCode.BadRequest, "input"),
            ("""{"model":"tts","input":"   ","voice":"alloy"}""", HttpStatusCode.BadRequest, "input"),
            ("""{"model":"tts","input":"hi"}""", HttpStatusCode.BadRequest, "voice"),
            ("""{"model":"tts","input":"hi","voice":"alloy","response_format":"midi"}""", HttpStatusCode.BadRequest, "response_format"),
            ("""{"model":"tts","input":"hi","voice":"alloy","stream_format":"sse"}""", HttpStatusCode.BadRequest, "stream_format"),
            ("""{"model":"tts","input":"hi","voice":"alloy""", HttpStatusCode.BadRequest, "invalid_json"),
            ("[1,2]", HttpStatusCode.BadRequest, "invalid_json"),
            ("{\"model\":\"tts\",\"voice\":\"alloy\",\"input\":\"" + new string('字', 4097) + "\"}", HttpStatusCode.RequestEntityTooLarge, "input_too_long"),
        };
        foreach (var (body, status, code) in cases)
        {
            using var response = await _client.PostAsync("v1/audio/speech", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{code}: {(int)response.StatusCode} {text}");
            Assert.Contains(code, text);
        }
        Assert.Equal(0, AudioRequestsAtVendor);
    }

    [Fact]
    public async Task Bad_ocr_files_are_refused_before_anything_is_read()
    {
        await using var strict = await MulanHost.StartAsync(SpeechTestKit.Catalog, b => b.Configuration["Speech:MaxOcrPages"] = "2");
        using var client = strict.Client(await strict.CreateKeyAsync());
        var png = Knowledge.Parsing.OcrSample.Png;
        var cases = new (HttpContent Content, HttpStatusCode Status, string Code)[]
        {
            (SpeechTestKit.Form(Encoding.UTF8.GetBytes("%PDX not a pdf, not an image"), "scan.pdf", ("model", "ocr-local")), HttpStatusCode.BadRequest, "invalid_document"),
            (SpeechTestKit.Form(Knowledge.Parsing.PdfFiles.Scanned(png)[..300], "scan.pdf", ("model", "ocr-local")), HttpStatusCode.BadRequest, "invalid_document"),
            (SpeechTestKit.Form(ThreePages(png), "scan.pdf", ("model", "ocr-local")), HttpStatusCode.RequestEntityTooLarge, "document_too_large"),
            (SpeechTestKit.Form(png, "a.png", ("model", "ocr-local"), ("language", "klingon")), HttpStatusCode.BadRequest, "language"),
            (SpeechTestKit.Form(Huge(), "huge.png", ("model", "ocr-local")), HttpStatusCode.RequestEntityTooLarge, "document_too_large"),
        };
        foreach (var (content, status, code) in cases)
        {
            using var response = await client.PostAsync("v1/ocr", content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{code}: {(int)response.StatusCode} {text}");
            Assert.Contains(code, text);
        }
        Assert.All(await strict.UsageRecordsAsync(), r => Assert.Equal("rejected", r["status"]!.GetValue<string>()));
    }

    private static byte[] ThreePages(byte[] png)
    {
        using var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        for (var i = 0; i < 3; i++)
        {
            builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4).AddPng(png, new UglyToad.PdfPig.Core.PdfRectangle(40, 600, 600, 750));
        }
        return builder.Build();
    }

    // A PNG header that claims 100000 × 100000 pixels: refused from its header, never decoded.
    private static byte[] Huge()
    {
        var png = Knowledge.Parsing.OcrSample.Png;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 100_000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 100_000);
        return png;
    }

    [Fact]
    public async Task A_key_rate_limit_counts_speech_requests()
    {
        using var limited = _host.Client(await _host.CreateKeyAsync(new { name = "rpm", rpm = 2 }));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await limited.PostAsJsonAsync("v1/audio/speech", new { model = "tts", input = "hi", voice = "alloy", response_format = "wav" });
            statuses.Add(response.StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(2, AudioRequestsAtVendor);
    }

    [Fact]
    public async Task A_unit_price_change_applies_from_its_time()
    {
        await using var host = await MulanHost.StartAsync(SpeechTestKit.Catalog.Replace(
            """{ "provider": "fake", "model": "tts-1", "price": { "currency": "USD", "perMillionCharacters": 15 } }""",
            """{ "provider": "fake", "model": "tts-1", "price": { "currency": "USD", "perMillionCharacters": 15 }, "priceChanges": [ { "currency": "USD", "perMillionCharacters": 30, "effectiveFrom": "2020-01-01T00:00:00Z" } ] }""",
            StringComparison.Ordinal));
        using var client = host.Client(await host.CreateKeyAsync());
        using var response = await client.PostAsJsonAsync("v1/audio/speech", new { model = "tts", input = "Hello", voice = "alloy", response_format = "wav" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0.00015", response.Headers.GetValues("x-mulan-cost").Single());
        var record = Assert.Single(await host.UsageRecordsAsync());
        Assert.Equal(30m, record["price"]!["perMillionCharacters"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Unit_prices_are_checked_against_the_route_kind()
    {
        foreach (var (model, field) in new (object, string)[]
                 {
                     (new { name = "x1", kind = "speech", deployments = new[] { new { provider = "fake", model = "tts-1", price = new { currency = "USD", input = 1, output = 1 } } } }, "perMillionCharacters"),
                     (new { name = "x2", kind = "ocr", deployments = new[] { new { provider = "fake", model = "m", price = new { currency = "USD", perPage = 1, perSecond = 1 } } } }, "perSecond"),
                     (new { name = "x3", deployments = new[] { new { provider = "fake", model = "m", price = new { currency = "USD", input = 1, output = 1, perPage = 1 } } } }, "perPage"),
                     (new { name = "x4", kind = "ocr", deployments = new[] { new { provider = "local", model = "espeak-ng", price = new { currency = "CNY", perPage = 0 } } } }, "engine for speech routes"),
                     (new { name = "x5", kind = "chat", deployments = new[] { new { provider = "local", model = "tesseract", price = new { currency = "CNY", input = 0, output = 0 } } } }, "model"),
                     (new { name = "x6", kind = "video", deployments = new[] { new { provider = "fake", model = "m", price = new { currency = "USD", input = 1, output = 1 } } } }, "kind"),
                 })
        {
            using var response = await _host.Admin.PostAsJsonAsync("api/models", model);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
            Assert.Contains(field, body);
        }
        using var local = await _host.Admin.PostAsJsonAsync("api/providers", new { name = "local", kind = "openai", baseUrl = "http://127.0.0.1:9/v1" });
        Assert.Equal(HttpStatusCode.BadRequest, local.StatusCode);
    }
}
