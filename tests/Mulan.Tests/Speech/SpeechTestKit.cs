using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Mulan.Speech.Engines;

namespace Mulan.Tests.Speech;

/// <summary>Routes, audio and helpers shared by the speech and OCR tests.</summary>
internal static class SpeechTestKit
{
    /// <summary>The fake OpenAI vendor's audio endpoints, the local engines, and a route that falls back from a failing
    /// vendor to the working one.</summary>
    public const string Catalog = """
        {
          "providers": [
            { "name": "fake", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "dead", "kind": "openai", "baseUrl": "http://127.0.0.1:9/v1", "apiKey": "sk-dead" }
          ],
          "models": [
            { "name": "chat", "deployments": [ { "provider": "fake", "model": "fake-chat", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
            { "name": "asr", "kind": "transcription", "deployments": [ { "provider": "fake", "model": "whisper-1", "price": { "currency": "USD", "perSecond": 0.0001 } } ] },
            { "name": "asr-fallback", "kind": "transcription", "deployments": [
                { "provider": "dead", "model": "whisper-1", "price": { "currency": "USD", "perSecond": 0.0002 } },
                { "provider": "fake", "model": "whisper-1", "price": { "currency": "USD", "perSecond": 0.0001 } } ] },
            { "name": "tts", "kind": "speech", "deployments": [ { "provider": "fake", "model": "tts-1", "price": { "currency": "USD", "perMillionCharacters": 15 } } ] },
            { "name": "asr-local", "kind": "transcription", "deployments": [ { "provider": "local", "model": "pocketsphinx", "price": { "currency": "CNY", "perSecond": 0 } } ] },
            { "name": "tts-local", "kind": "speech", "deployments": [ { "provider": "local", "model": "espeak-ng", "price": { "currency": "CNY", "perMillionCharacters": 0 } } ] },
            { "name": "tts-flite", "kind": "speech", "deployments": [ { "provider": "local", "model": "flite", "price": { "currency": "CNY", "perMillionCharacters": 0 } } ] },
            { "name": "ocr-local", "kind": "ocr", "deployments": [ { "provider": "local", "model": "tesseract", "price": { "currency": "CNY", "perPage": 0.01 } } ] }
          ],
          "exchangeRates": [ { "from": "USD", "to": "CNY", "rate": 7.1 } ]
        }
        """;

    /// <summary>A 16-bit mono WAV of a tone (or silence with <paramref name="amplitude"/> 0).</summary>
    public static byte[] Tone(double seconds, int rate = 16_000, double frequency = 440, short amplitude = 8000)
    {
        var samples = (int)(seconds * rate);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * 2), (short)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate)));
        }
        return global::Mulan.Speech.Audio.Wav.Wrap(pcm, rate);
    }

    public static MultipartFormDataContent Form(byte[] file, string fileName, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, "file", fileName);
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }
        return form;
    }

    /// <summary>Word error rate: word-level edit distance over the reference's word count, after lower-casing and dropping punctuation.</summary>
    public static double WordErrorRate(string reference, string hypothesis)
    {
        static string[] Words(string s) => new string([.. s.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '\'' ? c : ' ')])
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var r = Words(reference);
        var h = Words(hypothesis);
        return r.Length == 0 ? (h.Length == 0 ? 0 : 1) : Distance(r, h) / (double)r.Length;
    }

    /// <summary>Character accuracy: 1 − edit distance / reference length, over characters other than spaces, after NFKC
    /// (so a full-width colon and an ASCII one count the same).</summary>
    public static double CharacterAccuracy(string reference, string hypothesis)
    {
        static string[] Chars(string s) => [.. s.Normalize(NormalizationForm.FormKC).EnumerateRunes().Where(r => !Rune.IsWhiteSpace(r)).Select(r => r.ToString())];
        var r = Chars(reference);
        return r.Length == 0 ? 1 : Math.Max(0, 1 - (Distance(r, Chars(hypothesis)) / (double)r.Length));
    }

    private static int Distance(string[] a, string[] b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            previous = current;
        }
        return previous[b.Length];
    }

    /// <summary>Renders lines of text as a PNG with ffmpeg's drawtext and a Noto CJK font (Debian's fonts-noto-cjk).</summary>
    public static async Task<byte[]> RenderAsync(IReadOnlyList<string> lines, int fontSize = 40)
    {
        var dir = Directory.CreateTempSubdirectory("mulan-render-").FullName;
        try
        {
            var textFile = Path.Combine(dir, "text.txt");
            await File.WriteAllTextAsync(textFile, string.Join('\n', lines));
            var png = Path.Combine(dir, "page.png");
            var height = (lines.Count * (int)(fontSize * 1.6)) + 80;
            var width = (lines.Max(l => l.Length) * (fontSize + 4)) + 80;
            var filter = $"drawtext=fontfile={SpeechEngines.CjkFont}:textfile={textFile}:fontsize={fontSize}:fontcolor=black:line_spacing={fontSize / 2}:x=40:y=40";
            var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-v", "error", "-y", "-f", "lavfi", "-i", $"color=white:s={width}x{height}", "-frames:v", "1", "-vf", filter, png })
            {
                start.ArgumentList.Add(a);
            }
            using var process = Process.Start(start)!;
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return process.ExitCode == 0 ? await File.ReadAllBytesAsync(png) : throw new InvalidOperationException("ffmpeg drawtext failed: " + errors);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>English sentences written for people, not for this test: those of the demo handbook, then the first questions
    /// of the public XQuAD set (../shared/datasets), each of 5 to 16 words of letters only (numbers are read out as words).</summary>
    public static IReadOnlyList<string> EnglishSentences(int count)
    {
        static bool Speakable(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length is >= 5 and <= 16 && s.All(c => char.IsAsciiLetter(c) || c is ' ' or ',' or '\'' or '-');
        var path = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Mulan", "Knowledge", "Demo", "handbook.en.md");
        var handbook = File.ReadAllLines(path).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .SelectMany(l => System.Text.RegularExpressions.Regex.Split(l.Trim(), @"(?<=[.;:])\s+"))
            .Select(s => s.TrimEnd('.', ';', ':')).Where(Speakable);
        var questions = Knowledge.Keyword.Datasets.Root is { } root
            ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(root, "xquad", "xquad.en.json")))!["data"]!.AsArray()
                .SelectMany(a => a!["paragraphs"]!.AsArray()).SelectMany(p => p!["qas"]!.AsArray()).Select(q => q!["question"]!.GetValue<string>().TrimEnd('?'))
                .Where(Speakable)
            : [];
        return [.. handbook.Concat(questions).Take(count)];
    }

    public static IReadOnlyList<string> ChineseLines(string file, int count, int maxLength = 24)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Mulan", "Knowledge", "Demo", file);
        return [.. File.ReadAllLines(path).Select(l => l.Trim().TrimStart('#', '-', ' ', '*'))
            .SelectMany(l => l.Split(['。', '；', '，'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(l => l.Length is >= 6 && l.Length <= maxLength && l.All(c => c > 0x2E80 || char.IsAsciiDigit(c) || c is '，' or '、'))
            .Take(count)];
    }
}

/// <summary>Which of the local programs the speech tests use are installed.</summary>
internal static class SpeechEngines
{
    public const string CjkFont = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc";

    public static readonly string[] Programs = ["ffmpeg", "espeak-ng", "flite", "pocketsphinx_continuous", "tesseract", "pdftoppm"];

    public static IReadOnlyList<string> Missing => [.. Programs.Where(p => EngineProcess.Find(p) is null), .. File.Exists(CjkFont) ? [] : new[] { "fonts-noto-cjk" }];

    public static bool Required => Environment.GetEnvironmentVariable("MULAN_REQUIRE_SPEECH") == "1";
}

/// <summary>A fact that needs the local engines (Debian: ffmpeg espeak-ng flite pocketsphinx pocketsphinx-en-us tesseract-ocr
/// poppler-utils fonts-noto-cjk). Skipped without them, unless MULAN_REQUIRE_SPEECH=1 (CI), where it runs and fails.</summary>
public sealed class SpeechFactAttribute : FactAttribute
{
    public SpeechFactAttribute()
    {
        if (SpeechEngines.Missing.Count > 0 && !SpeechEngines.Required)
        {
            Skip = $"missing {string.Join(", ", SpeechEngines.Missing)} (apt-get install -y ffmpeg espeak-ng flite pocketsphinx pocketsphinx-en-us " +
                "tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra poppler-utils fonts-noto-cjk); set MULAN_REQUIRE_SPEECH=1 to fail instead";
        }
    }
}
