using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Mulan.FakeVendor.Speech;

/// <summary>
/// OpenAI's audio endpoints: <c>POST /v1/audio/transcriptions</c> (multipart <c>file</c>, <c>model</c>, optional
/// <c>language</c>, <c>prompt</c>, <c>response_format</c>, <c>temperature</c>) and <c>POST /v1/audio/speech</c> (JSON
/// <c>model</c>, <c>input</c>, <c>voice</c>, <c>response_format</c>, <c>speed</c>). The transcript says what was received
/// (format by content, bytes, seconds for WAV) so tests can check what the gateway forwarded; speech is a tone as long as
/// 40 ms per character, in WAV or PCM at 24 kHz, or in MP3 frames of silence. Queued <see cref="FakeFault.Status"/> faults
/// answer with OpenAI's error body.
/// </summary>
internal static class OpenAIAudioFake
{
    public const string TranscriptionsPath = "/v1/audio/transcriptions";
    public const string SpeechPath = "/v1/audio/speech";
    public static readonly string[] Voices = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"];

    public static async Task TranscribeAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        if (await FaultAsync(context, state))
        {
            return;
        }
        var contentType = context.Request.ContentType ?? "";
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || type.Boundary.Value is not { Length: > 0 } boundary)
        {
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest("Expected multipart/form-data."));
            return;
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        byte[]? file = null;
        string? fileName = null;
        var reader = new MultipartReader(boundary, new MemoryStream(body.ToArray()));
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || disposition.Name.Value is not { } name)
            {
                continue;
            }
            using var data = new MemoryStream();
            await section.Body.CopyToAsync(data);
            if (disposition.FileName.HasValue)
            {
                file = data.ToArray();
                fileName = disposition.FileName.Value;
            }
            else
            {
                fields[name.Trim('"')] = Encoding.UTF8.GetString(data.ToArray());
            }
        }
        if (file is null || !fields.TryGetValue("model", out var model) || model.Length == 0)
        {
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest("file and model are required."));
            return;
        }
        var format = fields.GetValueOrDefault("response_format", "json");
        var kind = file.AsSpan().StartsWith("RIFF"u8) ? "wav" : file.AsSpan().StartsWith("ID3"u8) || file is [0xFF, ..] ? "mp3" : "other";
        double? seconds = kind == "wav" && file.Length > 44 ? (file.Length - 44) / (double)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(28)) : null;
        var text = $"fake transcript of {file.Length} bytes of {kind} audio" +
            (seconds is { } s ? string.Create(CultureInfo.InvariantCulture, $" lasting {s:0.00} seconds") : "") +
            (fields.TryGetValue("language", out var language) ? $" in {language}" : "");
        switch (format)
        {
            case "text":
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync(text + "\n");
                return;
            case "verbose_json":
                await Http.WriteJsonAsync(context, Encoding.UTF8.GetBytes(new JsonObject
                {
                    ["task"] = "transcribe", ["language"] = language ?? "english", ["duration"] = seconds ?? 1.0, ["text"] = text,
                    ["segments"] = new JsonArray(new JsonObject { ["id"] = 0, ["start"] = 0.0, ["end"] = seconds ?? 1.0, ["text"] = " " + text }),
                }.ToJsonString()));
                return;
            case "json":
                await Http.WriteJsonAsync(context, Encoding.UTF8.GetBytes(new JsonObject { ["text"] = text }.ToJsonString()));
                return;
            default:
                await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest($"Invalid response_format '{format}'."));
                return;
        }
    }

    public static async Task SpeakAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        if (await FaultAsync(context, state))
        {
            return;
        }
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(body.Span) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            request = null;
        }
        var input = request?["input"]?.GetValue<string>();
        var voice = request?["voice"]?.GetValue<string>();
        var format = request?["response_format"]?.GetValue<string>() ?? "mp3";
        if (request?["model"] is null || string.IsNullOrEmpty(input) || voice is null)
        {
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest("model, input and voice are required."));
            return;
        }
        if (!Voices.Contains(voice))
        {
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest($"Invalid voice '{voice}'."));
            return;
        }
        var samples = 24_000 * 40 / 1000 * input.EnumerateRunes().Count();
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * 2), (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 24_000.0)));
        }
        byte[] audio;
        switch (format)
        {
            case "pcm":
                context.Response.ContentType = "audio/pcm";
                audio = pcm;
                break;
            case "wav":
                context.Response.ContentType = "audio/wav";
                audio = [.. Wav(pcm.Length), .. pcm];
                break;
            case "mp3":
                context.Response.ContentType = "audio/mpeg";
                audio = SilentMp3(Math.Max(2, samples / 1152));
                break;
            default:
                await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest($"Unsupported response_format '{format}' in this fake."));
                return;
        }
        // Streamed in pieces, as OpenAI does (chunked transfer).
        for (var at = 0; at < audio.Length; at += 8192)
        {
            await context.Response.Body.WriteAsync(audio.AsMemory(at, Math.Min(8192, audio.Length - at)));
            await context.Response.Body.FlushAsync();
        }
    }

    private static async Task<bool> FaultAsync(HttpContext context, VendorState state)
    {
        if (state.TakeFault() is not FakeFault.Status status)
        {
            return false;
        }
        await OpenAiErrors.WriteAsync(context, OpenAiErrors.ForStatus(status.Code), status.RetryAfterSeconds);
        return true;
    }

    private static byte[] Wav(int dataLength)
    {
        var h = new byte[44];
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), (uint)(36 + dataLength));
        "WAVEfmt "u8.CopyTo(h.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(22), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(24), 24_000);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(28), 48_000);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(32), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(34), 16);
        "data"u8.CopyTo(h.AsSpan(36));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), (uint)dataLength);
        return h;
    }

    // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames whose zero side information decodes as silence.
    private static byte[] SilentMp3(int frames)
    {
        var audio = new byte[frames * 417];
        for (var f = 0; f < frames; f++)
        {
            audio[f * 417] = 0xFF;
            audio[(f * 417) + 1] = 0xFB;
            audio[(f * 417) + 2] = 0x90;
            audio[(f * 417) + 3] = 0xC4;
        }
        return audio;
    }
}
