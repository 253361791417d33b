using System.Globalization;
using Microsoft.Extensions.Options;

namespace Mulan.Speech;

/// <summary>The <c>Speech</c> section: limits of <c>/v1/audio/*</c> and <c>/v1/ocr</c>, and where the local engines are.</summary>
public sealed class SpeechOptions
{
    public const string Section = "Speech";

    /// <summary>Largest audio upload, in bytes (OpenAI's limit is 25 MB).</summary>
    public long MaxAudioBytes { get; set; } = 25L * 1024 * 1024;

    /// <summary>Longest audio a transcription takes, in seconds.</summary>
    public double MaxAudioSeconds { get; set; } = 1800;

    /// <summary>Longest text one speech request may synthesize, in characters (OpenAI's limit is 4096).</summary>
    public int MaxSpeechCharacters { get; set; } = 4096;

    /// <summary>Largest image or PDF an OCR request takes, in bytes.</summary>
    public long MaxOcrBytes { get; set; } = 20L * 1024 * 1024;

    /// <summary>Most pages of a PDF an OCR request reads.</summary>
    public int MaxOcrPages { get; set; } = 50;

    /// <summary>Largest image (width × height) OCR reads, so that a small file cannot expand into gigabytes.</summary>
    public long MaxImagePixels { get; set; } = 60_000_000;

    /// <summary>Longest one run of a local program (ffmpeg, tesseract, espeak-ng, flite, pocketsphinx, pdftoppm) may take.</summary>
    public double EngineTimeoutSeconds { get; set; } = 120;

    /// <summary>ffmpeg's path; null = found on PATH.</summary>
    public string? FfmpegPath { get; set; }

    /// <summary>A Whisper model file (ggml, e.g. <c>ggml-base.bin</c>) for the local engine <c>whisper</c>. Mulan never downloads one.</summary>
    public string? WhisperModelPath { get; set; }

    /// <summary>Resolution PDF pages are rendered at for OCR, in dots per inch.</summary>
    public int PdfRenderDpi { get; set; } = 200;
}

internal sealed class SpeechOptionsValidator : IValidateOptions<SpeechOptions>
{
    public ValidateOptionsResult Validate(string? name, SpeechOptions o)
    {
        var errors = new List<string>();
        void Check(bool ok, string setting, object value, string rule)
        {
            if (!ok)
            {
                errors.Add($"{SpeechOptions.Section}:{setting}: {rule} (got {Convert.ToString(value, CultureInfo.InvariantCulture)})");
            }
        }
        Check(o.MaxAudioBytes is >= 1024 and <= 1L << 30, nameof(o.MaxAudioBytes), o.MaxAudioBytes, "must be from 1024 to 1073741824");
        Check(double.IsFinite(o.MaxAudioSeconds) && o.MaxAudioSeconds is >= 1 and <= 86_400, nameof(o.MaxAudioSeconds), o.MaxAudioSeconds, "must be from 1 to 86400");
        Check(o.MaxSpeechCharacters is >= 1 and <= 1_000_000, nameof(o.MaxSpeechCharacters), o.MaxSpeechCharacters, "must be from 1 to 1000000");
        Check(o.MaxOcrBytes is >= 1024 and <= 1L << 30, nameof(o.MaxOcrBytes), o.MaxOcrBytes, "must be from 1024 to 1073741824");
        Check(o.MaxOcrPages is >= 1 and <= 10_000, nameof(o.MaxOcrPages), o.MaxOcrPages, "must be from 1 to 10000");
        Check(o.MaxImagePixels is >= 10_000 and <= 1_000_000_000, nameof(o.MaxImagePixels), o.MaxImagePixels, "must be from 10000 to 1000000000");
        Check(double.IsFinite(o.EngineTimeoutSeconds) && o.EngineTimeoutSeconds is >= 1 and <= 3600, nameof(o.EngineTimeoutSeconds), o.EngineTimeoutSeconds, "must be from 1 to 3600");
        Check(o.PdfRenderDpi is >= 72 and <= 600, nameof(o.PdfRenderDpi), o.PdfRenderDpi, "must be from 72 to 600");
        Check(o.WhisperModelPath is null || File.Exists(o.WhisperModelPath), nameof(o.WhisperModelPath), o.WhisperModelPath ?? "", "must name an existing model file");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
