using Microsoft.Extensions.Options;
using Mulan.Gateway.Adapters;
using Mulan.Speech.Adapters;
using Mulan.Speech.Audio;
using Whisper.net;

namespace Mulan.Speech.Engines;

/// <summary>
/// The local engine <c>whisper</c>: Whisper.net (whisper.cpp) over a ggml model file the administrator names in
/// <c>Speech:WhisperModelPath</c>. Nothing is downloaded: without the file the engine is unavailable (503, so a route
/// falls back). The model is loaded once, on first use; each request gets its own processor.
/// </summary>
public sealed class WhisperEngine(IOptions<SpeechOptions> options) : IDisposable
{
    private readonly Lazy<WhisperFactory?> _factory = new(() =>
        options.Value.WhisperModelPath is { } path && File.Exists(path) ? WhisperFactory.FromPath(path) : null);

    public bool IsConfigured => options.Value.WhisperModelPath is not null;

    public async Task<Transcript> TranscribeAsync(TranscriptionInput input, CancellationToken ct)
    {
        var factory = _factory.Value
            ?? throw VendorError.Busy("the local engine whisper has no model file (set Speech:WhisperModelPath to a ggml model such as ggml-base.bin)");
        var builder = factory.CreateBuilder().WithLanguage(input.Language is { Length: > 0 } language ? language : "auto").WithThreads(1);
        if (input.Prompt is { Length: > 0 } prompt)
        {
            builder = builder.WithPrompt(prompt);
        }
        await using var processor = builder.Build();
        using var wav = new MemoryStream(Wav.Wrap(input.Pcm16k.Span, 16_000));
        var segments = new List<TranscriptSegment>();
        string? detected = null;
        await foreach (var segment in processor.ProcessAsync(wav, ct))
        {
            segments.Add(new TranscriptSegment(segment.Start.TotalSeconds, segment.End.TotalSeconds, segment.Text.Trim()));
            detected ??= segment.Language;
        }
        return new Transcript(Transcripts.Join(segments.Select(s => s.Text)), detected ?? input.Language, segments);
    }

    public void Dispose()
    {
        if (_factory.IsValueCreated)
        {
            _factory.Value?.Dispose();
        }
    }
}
