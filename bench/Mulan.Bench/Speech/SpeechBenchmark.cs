using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Speech;

/// <summary>
/// Speech and OCR: what the gateway adds over a direct call to the vendor (the fake OpenAI vendor's transcription and
/// speech endpoints, the same file and text both ways, alternating, one request at a time), how many pages per second the
/// local Tesseract route reads (beside tesseract run directly on the same page), and the word error rate of the local round
/// trips (flite and espeak-ng speak, pocketsphinx transcribes) over the same sentences the tests use.
/// </summary>
internal static class SpeechBenchmark
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- speech [options]
          --quick              short run: fewer requests and pages
          --out FILE           report path (default bench/results/speech.md)
          --no-build           do not build src/Mulan and tests/Mulan.FakeVendor (Release) first
          -h, --help           this text
        """;

    public static Task<int> RunAsync(string[] args) => ModeOptions.RunModeAsync(args, "speech", Usage, false, RunAsync);

    private static string Catalog(int vendorPort) => JsonSerializer.Serialize(new
    {
        providers = new[] { new { name = "fake", kind = "openai", baseUrl = $"http://127.0.0.1:{vendorPort}/v1", apiKey = FakeVendorArm.ApiKey } },
        models = new object[]
        {
            new { name = "chat", deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 0.15, output = 0.6 } } } },
            new { name = "asr", kind = "transcription", deployments = new[] { new { provider = "fake", model = "whisper-1", price = new { currency = "USD", perSecond = 0.0001 } } } },
            new { name = "tts", kind = "speech", deployments = new[] { new { provider = "fake", model = "tts-1", price = new { currency = "USD", perMillionCharacters = 15 } } } },
            new { name = "ocr-local", kind = "ocr", deployments = new[] { new { provider = "local", model = "tesseract", price = new { currency = "CNY", perPage = 0.01 } } } },
            new { name = "asr-local", kind = "transcription", deployments = new[] { new { provider = "local", model = "pocketsphinx", price = new { currency = "CNY", perSecond = 0 } } } },
            new { name = "tts-espeak", kind = "speech", deployments = new[] { new { provider = "local", model = "espeak-ng", price = new { currency = "CNY", perMillionCharacters = 0 } } } },
            new { name = "tts-flite", kind = "speech", deployments = new[] { new { provider = "local", model = "flite", price = new { currency = "CNY", perMillionCharacters = 0 } } } },
        },
    });

    private static async Task<int> RunAsync(ModeOptions options, CancellationToken ct)
    {
        var requests = options.Quick ? 100 : 400;
        var pages = options.Quick ? 10 : 30;
        var repo = RepoLayout.Find(null) ?? throw new BenchException("cannot find the repository (Mulan.slnx); run from inside it");
        var progress = new Progress();
        using var scratch = new ScratchDirectory();
        var builds = await ReleaseBuilds.PrepareAsync(repo, scratch, !options.NoBuild, progress, ct);
        var (vendorTarget, vendorPort) = await FakeVendorArm.StartAsync(builds.FakeVendorDll, ct);
        await using var vendorProcess = vendorTarget.Process!;
        var (mulan, skipped) = await MulanArm.StartAsync(builds.MulanDll, scratch, Path.Combine(scratch.Path, "mulan-data"), new Dictionary<string, string>(), vendorPort, ct,
            ArmKind.Mulan, Catalog(vendorPort));
        if (mulan is null)
        {
            throw new BenchException(skipped ?? "mulan did not start");
        }
        await using var mulanProcess = mulan.Process!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        var gateway = new Uri(mulan.ChatUrl, "/v1/");
        var direct = new Uri($"http://127.0.0.1:{vendorPort}/v1/");
        var report = new StringBuilder();
        report.AppendLine("# Speech and OCR benchmark").AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {requests} requests per arm, {pages} OCR pages.").AppendLine();

        // 1. Added latency: the same 2 s WAV and the same 20-character text, direct and through Mulan, alternating.
        var wav = Tone(2);
        var speech = JsonSerializer.Serialize(new { model = "tts-1", input = "Hello from Mulan, 你好", voice = "alloy", response_format = "wav" });
        async Task<double> Transcribe(Uri baseUrl, string auth, string model)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(wav), "file", "a.wav" }, { new StringContent(model), "model" } };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "audio/transcriptions")) { Content = form };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            return response.IsSuccessStatusCode ? Stopwatch.GetElapsedTime(started).TotalMilliseconds : throw new BenchException($"transcription answered {(int)response.StatusCode}");
        }
        async Task<double> Speak(Uri baseUrl, string auth, string model)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "audio/speech"))
            {
                Content = new StringContent(speech.Replace("\"tts-1\"", $"\"{model}\"", StringComparison.Ordinal), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            return response.IsSuccessStatusCode ? Stopwatch.GetElapsedTime(started).TotalMilliseconds : throw new BenchException($"speech answered {(int)response.StatusCode}");
        }
        var key = mulan.Authorization.Parameter!;
        report.AppendLine("## Added latency over a direct vendor call (one request at a time)").AppendLine();
        report.AppendLine("| call | direct p50 ms | Mulan p50 ms | added p50 ms | direct p95 ms | Mulan p95 ms | ratio p50 |").AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (name, call, model) in new (string, Func<Uri, string, string, Task<double>>, string)[] { ("transcription (2 s WAV)", Transcribe, "asr"), ("speech (20 characters, wav)", Speak, "tts") })
        {
            for (var i = 0; i < 20; i++)
            {
                await call(direct, FakeVendorArm.ApiKey, "whisper-1");
                await call(gateway, key, model);
            }
            var d = new List<double>();
            var m = new List<double>();
            for (var i = 0; i < requests; i++)
            {
                if (i % 2 == 0)
                {
                    d.Add(await call(direct, FakeVendorArm.ApiKey, name.StartsWith("speech", StringComparison.Ordinal) ? "tts-1" : "whisper-1"));
                    m.Add(await call(gateway, key, model));
                }
                else
                {
                    m.Add(await call(gateway, key, model));
                    d.Add(await call(direct, FakeVendorArm.ApiKey, name.StartsWith("speech", StringComparison.Ordinal) ? "tts-1" : "whisper-1"));
                }
            }
            var (dp50, mp50) = (P(d, 0.5), P(m, 0.5));
            report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {dp50:0.00} | {mp50:0.00} | {mp50 - dp50:0.00} | {P(d, 0.95):0.00} | {P(m, 0.95):0.00} | {mp50 / dp50:0.00}× |");
            progress.Say($"speech: {name} timed");
        }

        // 2. Local OCR pages/s: one rendered page of Chinese text, through /v1/ocr and tesseract directly.
        var page = await RenderPageAsync(scratch.Path, ct);
        async Task<double> Ocr()
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(page), "file", "page.png" }, { new StringContent("ocr-local"), "model" } };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "ocr")) { Content = form };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            return response.IsSuccessStatusCode ? Stopwatch.GetElapsedTime(started).TotalSeconds : throw new BenchException($"ocr answered {(int)response.StatusCode}: {body}");
        }
        async Task<double> Tesseract()
        {
            var start = new ProcessStartInfo("tesseract") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "stdin", "stdout", "-l", "chi_tra+chi_sim+eng" })
            {
                start.ArgumentList.Add(a);
            }
            start.Environment["OMP_THREAD_LIMIT"] = "1";
            var started = Stopwatch.GetTimestamp();
            using var p = Process.Start(start)!;
            await p.StandardInput.BaseStream.WriteAsync(page, ct);
            p.StandardInput.Close();
            await p.StandardOutput.ReadToEndAsync(ct);
            await p.WaitForExitAsync(ct);
            return Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        await Ocr();
        await Tesseract();
        var gatewaySeconds = new List<double>();
        var directSeconds = new List<double>();
        for (var i = 0; i < pages; i++)
        {
            gatewaySeconds.Add(await Ocr());
            directSeconds.Add(await Tesseract());
        }
        var parallel = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            for (var i = 0; i < pages / 2; i++)
            {
                await Ocr();
            }
        }));
        var parallelSeconds = Stopwatch.GetElapsedTime(parallel).TotalSeconds;
        report.AppendLine().AppendLine("## Local OCR (Tesseract, chi_tra+chi_sim+eng, one page of 10 lines of Chinese at 40 px)").AppendLine();
        report.AppendLine("| arm | pages/s | p50 s per page |").AppendLine("|---|---|---|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| tesseract run directly | {pages / directSeconds.Sum():0.00} | {P(directSeconds, 0.5):0.000} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| /v1/ocr, one at a time | {pages / gatewaySeconds.Sum():0.00} | {P(gatewaySeconds, 0.5):0.000} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| /v1/ocr, two at a time | {(pages / 2 * 2) / parallelSeconds:0.00} | |");
        progress.Say("speech: OCR timed");

        // 3. Round trips: the sentences of the tests (the demo handbook, then XQuAD's first questions).
        var sentences = Sentences(repo.Root);
        report.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## Local round trip: speech → pocketsphinx ({sentences.Count} English sentences)").AppendLine();
        report.AppendLine("| speech engine | mean word error rate |").AppendLine("|---|---|");
        foreach (var (route, voice) in new[] { ("tts-flite", "alloy"), ("tts-espeak", "en-us") })
        {
            var errors = new List<double>();
            foreach (var sentence in sentences)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "audio/speech"))
                {
                    Content = new StringContent(JsonSerializer.Serialize(new { model = route, input = sentence, voice, response_format = "wav" }), Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var spoken = await http.SendAsync(request, ct);
                var audio = await spoken.Content.ReadAsByteArrayAsync(ct);
                using var form = new MultipartFormDataContent { { new ByteArrayContent(audio), "file", "s.wav" }, { new StringContent("asr-local"), "model" } };
                using var asr = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "audio/transcriptions")) { Content = form };
                asr.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var heard = await http.SendAsync(asr, ct);
                var text = JsonNode.Parse(await heard.Content.ReadAsStringAsync(ct))?["text"]?.GetValue<string>() ?? "";
                errors.Add(Wer(sentence, text));
            }
            report.AppendLine(CultureInfo.InvariantCulture, $"| {route} | {errors.Average():P1} |");
            progress.Say($"speech: {route} round trip done");
        }

        var path = Path.GetFullPath(options.OutputPath ?? Path.Combine(repo.Root, "bench", "results", "speech.md"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, report.ToString(), ct);
        System.Console.WriteLine(report);
        return 0;
    }

    private static double P(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(q * sorted.Count))];
    }

    private static byte[] Tone(double seconds)
    {
        var samples = (int)(seconds * 16_000);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * 2), (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 16_000.0)));
        }
        return Mulan.Speech.Audio.Wav.Wrap(pcm, 16_000);
    }

    private static async Task<byte[]> RenderPageAsync(string dir, CancellationToken ct)
    {
        var text = Path.Combine(dir, "page.txt");
        var lines = File.ReadAllLines(Path.Combine(RepoLayout.Find(null)!.Root, "src", "Mulan", "Knowledge", "Demo", "benefits.zh-Hant.md"))
            .Where(l => l.Length > 10 && !l.StartsWith('#')).Select(l => l.Length > 30 ? l[..30] : l).Take(10).ToList();
        await File.WriteAllTextAsync(text, string.Join('\n', lines), ct);
        var png = Path.Combine(dir, "page.png");
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error", "-y", "-f", "lavfi", "-i", "color=white:s=1400x780", "-frames:v", "1", "-vf",
                     $"drawtext=fontfile=/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc:textfile={text}:fontsize=40:fontcolor=black:line_spacing=24:x=40:y=40", png })
        {
            start.ArgumentList.Add(a);
        }
        using var p = Process.Start(start)!;
        await p.WaitForExitAsync(ct);
        return p.ExitCode == 0 ? await File.ReadAllBytesAsync(png, ct) : throw new BenchException("ffmpeg could not render the OCR page (fonts-noto-cjk installed?)");
    }

    private static IReadOnlyList<string> Sentences(string root)
    {
        static bool Speakable(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length is >= 5 and <= 16 && s.All(c => char.IsAsciiLetter(c) || c is ' ' or ',' or '\'' or '-');
        var handbook = File.ReadAllLines(Path.Combine(root, "src", "Mulan", "Knowledge", "Demo", "handbook.en.md")).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .SelectMany(l => System.Text.RegularExpressions.Regex.Split(l.Trim(), @"(?<=[.;:])\s+")).Select(s => s.TrimEnd('.', ';', ':')).Where(Speakable);
        var xquad = Path.Combine(root, "..", "shared", "datasets", "xquad", "xquad.en.json");
        var questions = File.Exists(xquad)
            ? JsonNode.Parse(File.ReadAllText(xquad))!["data"]!.AsArray().SelectMany(a => a!["paragraphs"]!.AsArray()).SelectMany(p => p!["qas"]!.AsArray())
                .Select(q => q!["question"]!.GetValue<string>().TrimEnd('?')).Where(Speakable)
            : [];
        return [.. handbook.Concat(questions).Take(12)];
    }

    private static double Wer(string reference, string hypothesis)
    {
        static string[] Words(string s) => new string([.. s.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '\'' ? c : ' ')]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (r, h) = (Words(reference), Words(hypothesis));
        var previous = Enumerable.Range(0, h.Length + 1).ToArray();
        for (var i = 1; i <= r.Length; i++)
        {
            var current = new int[h.Length + 1];
            current[0] = i;
            for (var j = 1; j <= h.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1));
            }
            previous = current;
        }
        return r.Length == 0 ? 0 : previous[h.Length] / (double)r.Length;
    }
}
