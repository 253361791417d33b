using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;
using Mulan.Speech.Adapters;
using Mulan.Speech.Audio;
using Mulan.Speech.Ocr;

namespace Mulan.Speech;

/// <summary><c>POST /v1/audio/transcriptions</c>, <c>POST /v1/audio/speech</c> (OpenAI's shapes) and <c>POST /v1/ocr</c>.</summary>
public static partial class SpeechEndpoints
{
    public static IEndpointRouteBuilder MapSpeech(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/audio/transcriptions", TranscribeAsync).WithName("AudioTranscriptions")
            .WithSummary("OpenAI-compatible transcription: multipart file and model; json, text, srt, vtt or verbose_json.");
        v1.MapPost("/audio/speech", SpeakAsync).WithName("AudioSpeech")
            .WithSummary("OpenAI-compatible speech: model, input, voice; mp3, opus, aac, flac, wav or pcm, streamed.");
        v1.MapPost("/ocr", RecognizeAsync).WithName("Ocr")
            .WithSummary("OCR of an image or PDF (multipart file and model): pages with text and Markdown.");
        return app;
    }

    // ---- transcription -----------------------------------------------------------------------------------------------

    private static async Task TranscribeAsync(HttpContext ctx, MediaGateway gateway, AudioConverter audio, IOptions<SpeechOptions> options)
    {
        var o = options.Value;
        if (gateway.Begin(ctx, GatewayEndpoint.AudioTranscriptions, o.MaxAudioBytes) is not { } x)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return;
        }
        var (form, formError) = await ReadFormAsync(ctx, o.MaxAudioBytes);
        if (formError is not null)
        {
            await gateway.RejectAsync(ctx, x, formError);
            return;
        }
        var fields = form!;
        if (Field(fields, "model") is not { Length: > 0 } model)
        {
            await gateway.RejectAsync(ctx, x, Bad("model is required (a transcription route's name).", "model"));
            return;
        }
        var format = Field(fields, "response_format") ?? "json";
        var language = Field(fields, "language");
        var temperatureText = Field(fields, "temperature");
        var prompt = Field(fields, "prompt");
        double? temperature = null;
        OpenAIError? invalid = null;
        if (!Transcripts.Formats.Contains(format))
        {
            invalid = Bad($"response_format must be one of {string.Join(", ", Transcripts.Formats)} (got '{format}').", "response_format");
        }
        else if (language is not null && !LanguageTag().IsMatch(language))
        {
            invalid = Bad("language must be an ISO-639-1 code such as zh, en or yue.", "language");
        }
        else if (temperatureText is not null)
        {
            if (double.TryParse(temperatureText, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t is >= 0 and <= 1)
            {
                temperature = t;
            }
            else
            {
                invalid = Bad("temperature must be a number from 0 to 1.", "temperature");
            }
        }
        else if (prompt is { Length: > 4000 })
        {
            invalid = Bad("prompt must be at most 4000 characters.", "prompt");
        }
        else if (Field(fields, "stream") is "true")
        {
            invalid = Bad("stream is not supported for transcriptions; send it without stream.", "stream", "unsupported_parameter");
        }
        if (invalid is not null)
        {
            await gateway.RejectAsync(ctx, x, invalid);
            return;
        }
        if (await gateway.RouteAsync(ctx, x, model, ModelKind.Transcription, "/v1/audio/transcriptions") is not { } admitted)
        {
            return;
        }
        if (fields.Files.GetFile("file") is not { } file)
        {
            await gateway.RejectAsync(ctx, x, Bad("file is required (the audio, as a multipart file).", "file"));
            return;
        }
        if (file.Length > o.MaxAudioBytes)
        {
            await gateway.RejectAsync(ctx, x, TooLarge($"The audio file is {file.Length} bytes; at most {o.MaxAudioBytes} are accepted (Speech:MaxAudioBytes).", "file", "audio_too_large"));
            return;
        }
        var bytes = await ReadAllAsync(file, ctx.RequestAborted);
        if (AudioSniffer.Detect(bytes) is not { } detected)
        {
            await gateway.RejectAsync(ctx, x, Bad("The file is not audio in a format Mulan reads (WAV, MP3, FLAC, OGG/Opus, WebM, MP4/M4A, AMR); its content was checked, not its name.", "file", "invalid_audio"));
            return;
        }
        var clip = new AudioClip(bytes, detected);
        byte[] pcm;
        var max = TimeSpan.FromSeconds(o.MaxAudioSeconds);
        try
        {
            pcm = await audio.DecodeAsync(clip, max, ctx.RequestAborted);
        }
        catch (InvalidAudioException e)
        {
            await gateway.RejectAsync(ctx, x, Bad($"The audio cannot be used: {e.Message}.", "file", "invalid_audio"));
            return;
        }
        var seconds = pcm.Length / 32_000m;
        if (seconds > (decimal)o.MaxAudioSeconds)
        {
            await gateway.RejectAsync(ctx, x, TooLarge($"The audio is longer than {o.MaxAudioSeconds.ToString(CultureInfo.InvariantCulture)} seconds (Speech:MaxAudioSeconds).", "file", "audio_too_long"));
            return;
        }
        if (pcm.Length < 3200 || AudioConverter.IsSilent(pcm))
        {
            await gateway.RejectAsync(ctx, x, Bad("The audio is silent (or shorter than 0.1 s): there is nothing to transcribe.", "file", "audio_silent"));
            return;
        }
        // Billed by the millisecond, rounded up: a vendor's per-second price applies to the audio's actual length.
        var billed = Math.Ceiling(seconds * 1000) / 1000;
        if (!await gateway.AdmitAsync(ctx, admitted, MeteredUnit.Seconds, billed))
        {
            return;
        }
        var input = new TranscriptionInput(clip, pcm, language, prompt, temperature);
        if (await gateway.CallAsync<ITranscriptionAdapter, Transcript>(ctx, admitted, (a, call, ct) => a.TranscribeAsync(call, input, ct)) is not { } served)
        {
            return;
        }
        var (contentType, body) = Transcripts.Render(served.Result, format, (double)seconds, () => MediaGateway.Usage(x));
        if (!await gateway.RecordServedAsync(ctx, x, served.Deployment))
        {
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
    }

    // ---- speech ----------------------------------------------------------------------------------------------------------

    private static readonly Dictionary<string, AudioEncoding> SpeechFormats = new(StringComparer.Ordinal)
    {
        ["mp3"] = AudioEncoding.Mp3, ["opus"] = AudioEncoding.Opus, ["aac"] = AudioEncoding.Aac, ["flac"] = AudioEncoding.Flac,
        ["wav"] = AudioEncoding.Wav, ["pcm"] = AudioEncoding.Pcm16,
    };

    private static async Task SpeakAsync(HttpContext ctx, MediaGateway gateway, AudioConverter audio, IOptions<SpeechOptions> options)
    {
        var o = options.Value;
        const int MaxBody = 1 << 20;
        if (gateway.Begin(ctx, GatewayEndpoint.AudioSpeech, MaxBody) is not { } x)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return;
        }
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(new LimitedStream(ctx.Request.Body, MaxBody), cancellationToken: ctx.RequestAborted) as JsonObject;
        }
        catch (Exception e) when (e is JsonException or BadHttpRequestException or InvalidDataException)
        {
            await gateway.RejectAsync(ctx, x, e is InvalidDataException or BadHttpRequestException { StatusCode: 413 }
                ? TooLarge($"The request body is larger than {MaxBody} bytes.", null, "request_too_large")
                : Bad("The body is not valid JSON.", null, "invalid_json"));
            return;
        }
        if (body is null)
        {
            await gateway.RejectAsync(ctx, x, Bad("The body must be a JSON object.", null, "invalid_json"));
            return;
        }
        string? Text(string name) => body[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        OpenAIError? invalid = null;
        var model = Text("model");
        var text = Text("input");
        var voice = Text("voice");
        var formatName = body["response_format"] is null ? "mp3" : Text("response_format");
        var speed = 1.0;
        if (model is not { Length: > 0 })
        {
            invalid = Bad("model is required (a speech route's name).", "model");
        }
        else if (text is not { Length: > 0 } || string.IsNullOrWhiteSpace(text))
        {
            invalid = Bad("input is required: the text to speak.", "input");
        }
        else if (text.EnumerateRunes().Count() > o.MaxSpeechCharacters)
        {
            invalid = TooLarge($"input is longer than {o.MaxSpeechCharacters} characters (Speech:MaxSpeechCharacters).", "input", "input_too_long");
        }
        else if (voice is not { Length: > 0 })
        {
            invalid = Bad("voice is required.", "voice");
        }
        else if (formatName is null || !SpeechFormats.ContainsKey(formatName))
        {
            invalid = Bad($"response_format must be one of {string.Join(", ", SpeechFormats.Keys)}.", "response_format");
        }
        else if (body["speed"] is { } speedNode && !(speedNode is JsonValue sv && sv.TryGetValue<double>(out speed) && speed is >= 0.25 and <= 4.0))
        {
            invalid = Bad("speed must be a number from 0.25 to 4.0.", "speed");
        }
        else if (body["stream_format"] is { } sf && Text("stream_format") != "audio")
        {
            invalid = Bad("stream_format must be audio (the audio is streamed as it is made; sse is not offered).", "stream_format", "unsupported_parameter");
        }
        else if (body["instructions"] is { } ins && (Text("instructions") is not { } instructions || instructions.Length > 4096))
        {
            invalid = Bad("instructions must be a string of at most 4096 characters.", "instructions");
        }
        if (invalid is not null)
        {
            await gateway.RejectAsync(ctx, x, invalid);
            return;
        }
        if (await gateway.RouteAsync(ctx, x, model!, ModelKind.Speech, "/v1/audio/speech") is not { } admitted)
        {
            return;
        }
        // Only deployments that have the voice may serve; none → the voice is unknown here, and nothing is sent.
        var voiced = admitted.Deployments.Select(d => (Deployment: d, Voice: gateway.AdapterFor<ISpeechAdapter>(d)?.ResolveVoice(d, voice!, text!)))
            .Where(v => v.Voice is not null).ToList();
        if (voiced.Count == 0)
        {
            var known = admitted.Deployments.Select(d => gateway.AdapterFor<ISpeechAdapter>(d)?.Voices(d) ?? []).FirstOrDefault() ?? [];
            await gateway.RejectAsync(ctx, x, Bad($"Unknown voice '{Clip(voice!)}' for model '{model}'. Voices: the OpenAI names (alloy, echo, nova, ...)" +
                (known.Count > 0 ? $" and {string.Join(", ", known.Take(40))}." : "."), "voice", "unknown_voice"));
            return;
        }
        var voices = voiced.ToDictionary(v => v.Deployment, v => v.Voice!);
        admitted = admitted with { Deployments = [.. voiced.Select(v => v.Deployment)] };
        var requested = SpeechFormats[formatName!];
        if (!await gateway.AdmitAsync(ctx, admitted, MeteredUnit.Characters, text!.EnumerateRunes().Count()))
        {
            return;
        }
        var instructionsText = Text("instructions");
        // The first encoded chunk is read inside the attempt: a vendor that fails before any audio can still be replaced.
        var served = await gateway.CallAsync<ISpeechAdapter, (IAsyncEnumerator<ReadOnlyMemory<byte>> Stream, ReadOnlyMemory<byte> First, bool Any)>(ctx, admitted,
            async (adapter, call, ct) =>
            {
                var input = new SpeechInput(text, voices[call.Deployment], speed, requested, instructionsText);
                var produced = await adapter.SynthesizeAsync(call, input, ct);
                var rest = audio.EncodeAsync(produced, requested, ctx.RequestAborted).GetAsyncEnumerator(ctx.RequestAborted);
                try
                {
                    var any = await rest.MoveNextAsync().AsTask().WaitAsync(ct);
                    return (rest, any ? rest.Current : ReadOnlyMemory<byte>.Empty, any);
                }
                catch
                {
                    await rest.DisposeAsync();
                    throw;
                }
            });
        if (served is not { } s)
        {
            return;
        }
        await using var stream = s.Result.Stream;
        if (!s.Result.Any)
        {
            await gateway.RejectAsync(ctx, x, new OpenAIError(502, $"Provider '{s.Deployment.Provider.Name}' produced no audio.", "upstream_error", null, "upstream_error"));
            return;
        }
        // Speech is billed by the characters sent, whatever happens to the stream from here: the record is written first.
        if (!await gateway.RecordServedAsync(ctx, x, s.Deployment))
        {
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = AudioConverter.MediaType(requested);
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await ctx.Response.Body.WriteAsync(s.Result.First, ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            while (await stream.MoveNextAsync())
            {
                await ctx.Response.Body.WriteAsync(stream.Current, ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
        }
        catch (Exception e) when (e is Gateway.Adapters.VendorError or IOException or HttpRequestException or System.Net.WebSockets.WebSocketException
                                      or Engines.EngineException or OperationCanceledException)
        {
            // Headers are out: the only honest signal left is a broken response, so the client cannot take a cut-off file for a whole one.
            LogBrokenStream(ctx.RequestServices.GetRequiredService<ILogger<MediaGateway>>(), x.RequestId, e.GetType().Name);
            ctx.Abort();
        }
    }

    // ---- OCR --------------------------------------------------------------------------------------------------------------

    private static readonly string[] OcrLanguages = ["zh-Hans", "zh-Hant", "zh", "en"];

    private static async Task RecognizeAsync(HttpContext ctx, MediaGateway gateway, IOptions<SpeechOptions> options)
    {
        var o = options.Value;
        if (gateway.Begin(ctx, GatewayEndpoint.Ocr, o.MaxOcrBytes) is not { } x)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return;
        }
        var (form, formError) = await ReadFormAsync(ctx, o.MaxOcrBytes);
        if (formError is not null)
        {
            await gateway.RejectAsync(ctx, x, formError);
            return;
        }
        var fields = form!;
        if (Field(fields, "model") is not { Length: > 0 } model)
        {
            await gateway.RejectAsync(ctx, x, Bad("model is required (an ocr route's name).", "model"));
            return;
        }
        var languages = (Field(fields, "language") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (languages.FirstOrDefault(l => !OcrLanguages.Contains(l, StringComparer.OrdinalIgnoreCase)) is { } unknown)
        {
            await gateway.RejectAsync(ctx, x, Bad($"language must list {string.Join(", ", OcrLanguages)} (comma-separated); got '{Clip(unknown)}'.", "language"));
            return;
        }
        if (await gateway.RouteAsync(ctx, x, model, ModelKind.Ocr, "/v1/ocr") is not { } admitted)
        {
            return;
        }
        if (fields.Files.GetFile("file") is not { } file)
        {
            await gateway.RejectAsync(ctx, x, Bad("file is required (an image or a PDF, as a multipart file).", "file"));
            return;
        }
        if (file.Length > o.MaxOcrBytes)
        {
            await gateway.RejectAsync(ctx, x, TooLarge($"The file is {file.Length} bytes; at most {o.MaxOcrBytes} are accepted (Speech:MaxOcrBytes).", "file", "file_too_large"));
            return;
        }
        OcrDocument document;
        try
        {
            document = OcrDocument.Open(await ReadAllAsync(file, ctx.RequestAborted), o);
        }
        catch (InvalidDocumentException e)
        {
            await gateway.RejectAsync(ctx, x, e.Status == 413 ? TooLarge(e.Message + ".", "file", "document_too_large") : Bad($"The file cannot be read: {e.Message}.", "file", "invalid_document"));
            return;
        }
        // Every page is rendered before anything is charged or sent: a page that cannot be rendered refuses the whole file.
        var pages = new OcrPageImage[document.PageCount];
        try
        {
            for (var i = 0; i < pages.Length; i++)
            {
                pages[i] = await document.Page(i, ctx.RequestAborted);
            }
        }
        catch (InvalidDocumentException e)
        {
            await gateway.RejectAsync(ctx, x, Bad($"The file cannot be read: {e.Message}.", "file", "invalid_document"));
            return;
        }
        catch (Gateway.Adapters.VendorError e)
        {
            await gateway.RejectAsync(ctx, x, new OpenAIError(503, e.Message + ".", "service_unavailable", "file", "renderer_unavailable"));
            return;
        }
        catch (Engines.EngineException e)
        {
            await gateway.RejectAsync(ctx, x, Bad($"The file cannot be read: {e.Message}.", "file", "invalid_document"));
            return;
        }
        if (!await gateway.AdmitAsync(ctx, admitted, MeteredUnit.Pages, document.PageCount))
        {
            return;
        }
        var served = await gateway.CallAsync<IOcrAdapter, List<OcrPageText>>(ctx, admitted, async (adapter, call, ct) =>
        {
            var texts = new List<OcrPageText>(pages.Length);
            foreach (var page in pages)
            {
                texts.Add(await adapter.RecognizeAsync(call, new OcrInput(page, languages), ct));
            }
            return texts;
        });
        if (served is not { } s)
        {
            return;
        }
        var result = new JsonObject
        {
            ["object"] = "ocr",
            ["model"] = model,
            ["pages"] = new JsonArray([.. s.Result.Select((p, i) => (JsonNode)new JsonObject { ["index"] = i, ["text"] = p.Text, ["markdown"] = p.Markdown })]),
            ["usage"] = MediaGateway.Usage(x),
        };
        var bytes = Encoding.UTF8.GetBytes(result.ToJsonString(Gateway.Wire.WireJson.Serializer));
        if (!await gateway.RecordServedAsync(ctx, x, s.Deployment))
        {
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }

    // ---- shared -------------------------------------------------------------------------------------------------------------

    private static async Task<(IFormCollection? Form, OpenAIError? Error)> ReadFormAsync(HttpContext ctx, long maxFile)
    {
        if (!ctx.Request.HasFormContentType || ctx.Request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) != true)
        {
            return (null, Bad("The body must be multipart/form-data with a file and a model.", null, "invalid_content_type"));
        }
        if (ctx.Request.ContentLength > maxFile + (1 << 20))
        {
            return (null, TooLarge($"The request is larger than {maxFile} bytes allows.", "file", "request_too_large"));
        }
        try
        {
            var form = await ctx.Request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions
            {
                MultipartBodyLengthLimit = maxFile + (1 << 20),
                ValueLengthLimit = 64 * 1024,
                ValueCountLimit = 64,
                MemoryBufferThreshold = 1 << 20,
            }, ctx.RequestAborted);
            return (form, null);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            return (null, TooLarge($"The request is larger than {maxFile} bytes allows.", "file", "request_too_large"));
        }
        catch (InvalidDataException)
        {
            return (null, Bad("The multipart body is malformed.", null, "invalid_multipart"));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return (null, TooLarge($"The request is larger than {maxFile} bytes allows.", "file", "request_too_large"));
        }
        catch (IOException)
        {
            return (null, Bad("The multipart body ended early.", null, "invalid_multipart"));
        }
    }

    private static string? Field(IFormCollection form, string name) => form.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null;

    private static async Task<byte[]> ReadAllAsync(IFormFile file, CancellationToken ct)
    {
        using var buffer = new MemoryStream((int)file.Length);
        await using var stream = file.OpenReadStream();
        await stream.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    private static OpenAIError Bad(string message, string? param, string? code = null) => new(400, message, "invalid_request_error", param, code);

    private static OpenAIError TooLarge(string message, string? param, string code) => new(413, message, "invalid_request_error", param, code);

    private static string Clip(string value) => value.Length > 64 ? value[..64] + "…" : value;

    [GeneratedRegex("^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?$")]
    private static partial Regex LanguageTag();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: the speech stream broke off ({Reason})")]
    private static partial void LogBrokenStream(ILogger logger, string requestId, string reason);

    /// <summary>A read-only view of a stream that fails once more than <c>limit</c> bytes were read.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int n)
        {
            _read += n;
            return _read > limit ? throw new InvalidDataException("body limit") : n;
        }
    }
}
