using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;
using Mulan.Speech.Adapters;
using Mulan.Speech.Audio;

namespace Mulan.Speech.Engines;

/// <summary>
/// The provider <c>local</c>: engines that run on this machine, so nothing leaves it. Each is a Debian program run per
/// request (see <see cref="EngineProcess"/>): <c>tesseract</c> (OCR in Simplified and Traditional Chinese and English),
/// <c>espeak-ng</c> (speech: Mandarin, Cantonese, English), <c>flite</c> (speech: clearer English voices), <c>pocketsphinx</c>
/// (English transcription) and <c>whisper</c> (any language, when <c>Speech:WhisperModelPath</c> names a model file).
/// A missing program is a 503 for that deployment, so a route can fall back to another.
/// </summary>
public sealed class LocalEngineAdapter(IOptions<SpeechOptions> options, WhisperEngine whisper) : ITranscriptionAdapter, ISpeechAdapter, IOcrAdapter
{
    private readonly SpeechOptions _options = options.Value;
    private TimeSpan Timeout => TimeSpan.FromSeconds(_options.EngineTimeoutSeconds);

    public WireProtocol Protocol => WireProtocol.Local;

    // ---- transcription -------------------------------------------------------------------------------------------

    public async Task<Transcript> TranscribeAsync(MediaCall call, TranscriptionInput input, CancellationToken ct)
    {
        if (call.Deployment.VendorModel == LocalEngines.Whisper)
        {
            return await whisper.TranscribeAsync(input, ct);
        }
        if (input.Language is { Length: > 0 } language && !language.StartsWith("en", StringComparison.OrdinalIgnoreCase))
        {
            throw new VendorError(501, VendorError.Unsupported, $"the local engine pocketsphinx transcribes English only (language '{language}' was asked)");
        }
        var program = Require("pocketsphinx_continuous", "pocketsphinx pocketsphinx-en-us");
        var path = Path.Combine(Path.GetTempPath(), $"mulan-asr-{Guid.NewGuid():N}.wav");
        await File.WriteAllBytesAsync(path, Wav.Wrap(input.Pcm16k.Span, 16_000), ct);
        try
        {
            var run = await EngineProcess.RunAsync(program, ["-infile", path, "-time", "yes", "-logfn", "/dev/null"], null, Timeout, 16L << 20, ct);
            if (run.ExitCode != 0)
            {
                throw VendorError.Server($"pocketsphinx failed (exit code {run.ExitCode})");
            }
            return PocketsphinxOutput.Parse(Encoding.UTF8.GetString(run.Output));
        }
        catch (EngineException e)
        {
            throw VendorError.Server(e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---- speech ----------------------------------------------------------------------------------------------------

    /// <summary>OpenAI's voice names, each given an English voice of its own; Chinese text is read in Mandarin.</summary>
    private static readonly Dictionary<string, (string Espeak, string Flite)> OpenAIVoices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["alloy"] = ("en-us", "slt"), ["ash"] = ("en-us+m2", "rms"), ["ballad"] = ("en-gb+m3", "awb"), ["coral"] = ("en-us+f2", "slt"),
        ["echo"] = ("en-us+m3", "rms"), ["fable"] = ("en-gb", "awb"), ["nova"] = ("en-us+f3", "slt"), ["onyx"] = ("en-us+m7", "rms"),
        ["sage"] = ("en-us+f5", "slt"), ["shimmer"] = ("en-us+f4", "slt"), ["verse"] = ("en-us+m5", "kal16"),
    };

    /// <summary>espeak-ng voices by the names clients use: its own ids and BCP 47 tags.</summary>
    private static readonly Dictionary<string, string> EspeakVoices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cmn"] = "cmn", ["zh"] = "cmn", ["zh-cn"] = "cmn", ["zh-hans"] = "cmn", ["mandarin"] = "cmn",
        ["yue"] = "yue", ["zh-hk"] = "yue", ["zh-hant"] = "yue", ["cantonese"] = "yue",
        ["en"] = "en-gb", ["en-gb"] = "en-gb", ["en-us"] = "en-us", ["english"] = "en-us",
    };

    private static readonly HashSet<string> FliteVoices = new(StringComparer.OrdinalIgnoreCase) { "slt", "rms", "awb", "kal", "kal16" };

    public IReadOnlyCollection<string> Voices(Deployment deployment) =>
        deployment.VendorModel == LocalEngines.Flite ? [.. FliteVoices.Order()] : [.. EspeakVoices.Keys.Order()];

    public string? ResolveVoice(Deployment deployment, string voice, string text)
    {
        var flite = deployment.VendorModel == LocalEngines.Flite;
        if (OpenAIVoices.TryGetValue(voice, out var mapped))
        {
            return flite ? mapped.Flite : HasHan(text) ? "cmn" : mapped.Espeak;
        }
        if (flite)
        {
            return FliteVoices.Contains(voice) ? voice.ToLowerInvariant() : null;
        }
        return EspeakVoices.TryGetValue(voice, out var espeak) ? espeak : null;
    }

    public async Task<SpeechAudio> SynthesizeAsync(MediaCall call, SpeechInput input, CancellationToken ct)
    {
        if (call.Deployment.VendorModel == LocalEngines.Flite)
        {
            return await FliteAsync(input, ct);
        }
        var program = Require("espeak-ng", "espeak-ng");
        var wordsPerMinute = Math.Clamp((int)Math.Round(175 * input.Speed), 80, 500).ToString(CultureInfo.InvariantCulture);
        try
        {
            // The text goes in on standard input (no argument length limit, no option injection); WAV comes out.
            var run = await EngineProcess.RunAsync(program, ["-v", input.Voice, "-s", wordsPerMinute, "--stdout"], Encoding.UTF8.GetBytes(input.Text),
                Timeout, 256L << 20, ct);
            return run.ExitCode == 0 && run.Output.Length > 44 ? Pcm(Wav.Read(FixStreamedHeader(run.Output)), run.Output, ct)
                : throw VendorError.Server($"espeak-ng failed (exit code {run.ExitCode})");
        }
        catch (EngineException e)
        {
            throw VendorError.Server(e.Message);
        }
    }

    private async Task<SpeechAudio> FliteAsync(SpeechInput input, CancellationToken ct)
    {
        var program = Require("flite", "flite");
        var text = Path.Combine(Path.GetTempPath(), $"mulan-tts-{Guid.NewGuid():N}.txt");
        var wav = Path.ChangeExtension(text, ".wav");
        await File.WriteAllTextAsync(text, input.Text, ct);
        try
        {
            var stretch = (1 / Math.Clamp(input.Speed, 0.25, 4.0)).ToString("0.###", CultureInfo.InvariantCulture);
            var run = await EngineProcess.RunAsync(program, ["-voice", input.Voice, "--setf", $"duration_stretch={stretch}", "-f", text, "-o", wav], null, Timeout, 1 << 20, ct);
            if (run.ExitCode != 0 || !File.Exists(wav))
            {
                throw VendorError.Server($"flite failed (exit code {run.ExitCode})");
            }
            var bytes = await File.ReadAllBytesAsync(wav, ct);
            return Pcm(Wav.Read(bytes), bytes, ct);
        }
        catch (EngineException e)
        {
            throw VendorError.Server(e.Message);
        }
        finally
        {
            File.Delete(text);
            File.Delete(wav);
        }
    }

    private static SpeechAudio Pcm(WavInfo info, byte[] file, CancellationToken ct) => info is { IsPcm16: true, Channels: 1 }
        ? new SpeechAudio(AudioEncoding.Pcm16, info.SampleRate, Chunks(file.AsMemory(info.DataOffset, info.DataLength), ct))
        : throw VendorError.Server("the local engine produced audio in an unexpected format");

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(ReadOnlyMemory<byte> pcm, [EnumeratorCancellation] CancellationToken ct)
    {
        const int Size = 32 * 1024;
        for (var at = 0; at < pcm.Length; at += Size)
        {
            ct.ThrowIfCancellationRequested();
            yield return pcm.Slice(at, Math.Min(Size, pcm.Length - at));
        }
        await Task.CompletedTask;
    }

    // espeak-ng writing to a pipe cannot seek back, so its header claims a huge length: the data runs to the end.
    private static byte[] FixStreamedHeader(byte[] wav)
    {
        if (wav.Length > 44 && wav.AsSpan(36, 4).SequenceEqual("data"u8))
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(40), (uint)(wav.Length - 44));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(4), (uint)(wav.Length - 8));
        }
        return wav;
    }

    internal static bool HasHan(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF)
            {
                return true;
            }
        }
        return false;
    }

    // ---- OCR ---------------------------------------------------------------------------------------------------------

    public async Task<OcrPageText> RecognizeAsync(MediaCall call, OcrInput input, CancellationToken ct)
    {
        var program = Require("tesseract", "tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra");
        var languages = TesseractLanguages(input.Languages);
        try
        {
            var run = await EngineProcess.RunAsync(program, ["stdin", "stdout", "-l", languages], input.Page.Image, Timeout, 16L << 20, ct);
            if (run.ExitCode != 0)
            {
                throw VendorError.Server($"tesseract could not read page {input.Page.Index + 1} (exit code {run.ExitCode})");
            }
            return OcrMarkdown.FromPlainText(Encoding.UTF8.GetString(run.Output));
        }
        catch (EngineException e)
        {
            throw VendorError.Server(e.Message);
        }
    }

    /// <summary>zh-Hans → chi_sim, zh-Hant → chi_tra, en → eng; none asked = all three, Traditional first (tesseract prefers
    /// the earlier language on ties, and Traditional shapes are the rarer ones to be guessed).</summary>
    internal static string TesseractLanguages(IReadOnlyList<string> asked)
    {
        var list = new List<string>();
        foreach (var language in asked)
        {
            var code = language.ToLowerInvariant() switch
            {
                "zh-hans" or "zh-cn" or "zh-sg" or "chi_sim" => "chi_sim",
                "zh-hant" or "zh-tw" or "zh-hk" or "chi_tra" => "chi_tra",
                "zh" => "chi_sim+chi_tra",
                "en" or "eng" => "eng",
                _ => null,
            };
            if (code is not null && !list.Contains(code))
            {
                list.Add(code);
            }
        }
        return list.Count == 0 ? "chi_tra+chi_sim+eng" : string.Join('+', list);
    }

    private static string Require(string program, string packages) => EngineProcess.Find(program)
        ?? throw VendorError.Busy($"the local engine {program} is not installed on this server (apt-get install {packages})");
}
