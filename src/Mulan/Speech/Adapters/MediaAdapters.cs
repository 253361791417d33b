using Mulan.Gateway.Catalog;

namespace Mulan.Speech.Adapters;

/// <summary>One call to a speech or OCR deployment.</summary>
/// <param name="Client">the gateway's upstream HTTP client (no redirects, pooled); a WebSocket adapter opens its own socket
/// and applies <paramref name="ConnectTimeout"/> itself.</param>
/// <param name="MaxResponseBytes">the most an adapter may read from the vendor for this call.</param>
public sealed record MediaCall(Deployment Deployment, string RequestId, HttpClient Client, TimeSpan ConnectTimeout, long MaxResponseBytes);

/// <summary>
/// A speech or OCR vendor protocol. Adapters are stateless singletons chosen by the provider's <see cref="WireProtocol"/>.
/// Failures the vendor reports (an HTTP error, an error inside a 200 body, an error frame) are thrown as
/// <see cref="Gateway.Adapters.VendorError"/> with the canonical status and code, so that the media gateway decides
/// retry, fallback or answer as for chat. A vendor that cannot be reached or breaks off throws
/// <see cref="HttpRequestException"/>, <see cref="IOException"/> or <see cref="System.Net.WebSockets.WebSocketException"/>.
/// Credentials, request ids and vendor bodies never go into exception messages that reach clients unfiltered: messages
/// name the vendor's code and message only.
/// </summary>
public interface IMediaAdapter
{
    WireProtocol Protocol { get; }
}

/// <param name="Original">the client's file as received (its format detected from its content).</param>
/// <param name="Pcm16k">the same audio as 16 kHz, 16-bit little-endian, mono PCM (what most vendors and engines want).</param>
/// <param name="Language">ISO-639-1 as OpenAI takes it (<c>zh</c>, <c>en</c>, <c>yue</c>...), null = the deployment's default.</param>
/// <param name="Prompt">OpenAI's <c>prompt</c> (a vocabulary hint); adapters whose vendor has no such field ignore it.</param>
public sealed record TranscriptionInput(Audio.AudioClip Original, ReadOnlyMemory<byte> Pcm16k, string? Language, string? Prompt, double? Temperature)
{
    public TimeSpan Duration => TimeSpan.FromSeconds(Pcm16k.Length / 32_000.0);
}

/// <summary>A timed piece of a transcript, in seconds from the start of the audio.</summary>
public sealed record TranscriptSegment(double Start, double End, string Text);

/// <param name="Segments">timed sentences when the vendor gives them; empty otherwise (one segment covers the whole audio).</param>
public sealed record Transcript(string Text, string? Language, IReadOnlyList<TranscriptSegment> Segments);

public interface ITranscriptionAdapter : IMediaAdapter
{
    Task<Transcript> TranscribeAsync(MediaCall call, TranscriptionInput input, CancellationToken ct);
}

/// <summary>How synthesized audio is encoded. <see cref="Pcm16"/> is 16-bit little-endian mono PCM at a stated rate.</summary>
public enum AudioEncoding { Mp3, Opus, Aac, Flac, Wav, Pcm16 }

/// <param name="Voice">the client's voice name; <see cref="ISpeechAdapter.ResolveVoice"/> has accepted it.</param>
/// <param name="Speed">OpenAI's 0.25–4.0, 1 = normal.</param>
/// <param name="Requested">the encoding the client asked for; an adapter may produce another (the gateway converts).</param>
public sealed record SpeechInput(string Text, string Voice, double Speed, AudioEncoding Requested, string? Instructions = null);

/// <summary>Audio as it comes from the vendor, chunk by chunk. The first chunk is read before anything is sent to the client,
/// so that a failure there can still fall back to another deployment.</summary>
/// <param name="SampleRate">for <see cref="AudioEncoding.Pcm16"/>, the rate in Hz; otherwise informative (0 = unknown).</param>
public sealed record SpeechAudio(AudioEncoding Encoding, int SampleRate, IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks);

public interface ISpeechAdapter : IMediaAdapter
{
    /// <summary>The vendor's voice for a client's voice name, or null when this deployment has no such voice (the request is
    /// refused with 400 before anything is sent). OpenAI's names (alloy, ash, ballad, coral, echo, fable, nova, onyx, sage,
    /// shimmer, verse) map to the vendor's voices, so unmodified OpenAI clients work on every route.</summary>
    /// <param name="text">the input, for adapters that pick a voice by language.</param>
    string? ResolveVoice(Deployment deployment, string voice, string text);

    /// <summary>The voice names this deployment takes besides OpenAI's (for the error message and the docs).</summary>
    IReadOnlyCollection<string> Voices(Deployment deployment);

    /// <param name="input">with <see cref="SpeechInput.Voice"/> already resolved to the vendor's voice.</param>
    Task<SpeechAudio> SynthesizeAsync(MediaCall call, SpeechInput input, CancellationToken ct);
}

/// <summary>One page to read: an encoded image (PNG, JPEG, TIFF, BMP, WebP), a rendered PDF page being a PNG.</summary>
/// <param name="Index">0-based page number in the client's document.</param>
public sealed record OcrPageImage(int Index, byte[] Image, string MediaType, int Width, int Height);

/// <param name="Markdown">the page as Markdown: paragraphs separated by blank lines, headings and lists where the engine can
/// tell, special characters escaped.</param>
public sealed record OcrPageText(string Text, string Markdown);

/// <param name="Languages">what the client asked for (<c>zh-Hans</c>, <c>zh-Hant</c>, <c>en</c>); empty = the engine's default.</param>
public sealed record OcrInput(OcrPageImage Page, IReadOnlyList<string> Languages);

public interface IOcrAdapter : IMediaAdapter
{
    Task<OcrPageText> RecognizeAsync(MediaCall call, OcrInput input, CancellationToken ct);
}
