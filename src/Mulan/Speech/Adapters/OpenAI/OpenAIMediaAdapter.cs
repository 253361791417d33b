using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;

namespace Mulan.Speech.Adapters.OpenAI;

/// <summary>
/// Speech and OCR on OpenAI-compatible vendors: <c>POST {base}/audio/transcriptions</c> (multipart, the client's file
/// as sent), <c>POST {base}/audio/speech</c> (the audio streamed back as it comes), and OCR through a vision chat model
/// (<c>POST {base}/chat/completions</c> with the page as an image, asked for the text as Markdown), which is how
/// OpenAI-compatible vendors offer OCR models (qwen-vl-ocr, GLM-4V and the like).
/// </summary>
public sealed class OpenAIMediaAdapter : ITranscriptionAdapter, ISpeechAdapter, IOcrAdapter
{
    public WireProtocol Protocol => WireProtocol.OpenAICompatible;

    public static readonly string[] OpenAIVoiceNames = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"];

    internal const string OcrInstruction =
        "Transcribe all text in this image exactly as written, in its original language and script (do not translate, do not convert " +
        "Traditional to Simplified Chinese or back). Answer with the text only, as Markdown: headings as #, lists as -, tables as Markdown tables, " +
        "paragraphs separated by blank lines. If the image has no text, answer with nothing.";

    public async Task<Transcript> TranscribeAsync(MediaCall call, TranscriptionInput input, CancellationToken ct)
    {
        var clip = input.Original;
        // verbose_json carries segments and the language; the newer transcribe models only answer json.
        var verbose = call.Deployment.VendorModel.StartsWith("whisper", StringComparison.OrdinalIgnoreCase);
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(clip.Bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(Audio.AudioClip.MediaType(clip.Format));
        form.Add(file, "file", "audio." + Audio.AudioClip.Extension(clip.Format));
        form.Add(new StringContent(call.Deployment.VendorModel), "model");
        form.Add(new StringContent(verbose ? "verbose_json" : "json"), "response_format");
        if (input.Language is { Length: > 0 } language)
        {
            form.Add(new StringContent(language), "language");
        }
        if (input.Prompt is { Length: > 0 } prompt)
        {
            form.Add(new StringContent(prompt), "prompt");
        }
        if (input.Temperature is { } temperature)
        {
            form.Add(new StringContent(temperature.ToString(CultureInfo.InvariantCulture)), "temperature");
        }
        using var response = await SendAsync(call, "/audio/transcriptions", form, ct);
        var body = await ReadJsonAsync(call, response, ct);
        var text = body["text"]?.GetValue<string>() ?? throw VendorError.Server("the provider's transcription has no text");
        var segments = new List<TranscriptSegment>();
        foreach (var s in body["segments"] as JsonArray ?? [])
        {
            if (s is JsonObject o && o["start"] is JsonValue start && o["end"] is JsonValue end && o["text"] is JsonValue t)
            {
                segments.Add(new TranscriptSegment(start.GetValue<double>(), end.GetValue<double>(), t.GetValue<string>().Trim()));
            }
        }
        return new Transcript(text.Trim(), body["language"]?.GetValue<string>() ?? input.Language, segments);
    }

    public IReadOnlyCollection<string> Voices(Deployment deployment) => OpenAIVoiceNames;

    /// <summary>A provider of kind <c>openai</c> has OpenAI's named voices only, so any other name is refused before it is
    /// sent; other compatible kinds (siliconflow, qwen, vllm...) name theirs freely (SiliconFlow's <c>model:voice</c>, for one),
    /// so a well-formed name goes to them and they say whether they have it.</summary>
    public string? ResolveVoice(Deployment deployment, string voice, string text)
    {
        if (OpenAIVoiceNames.Contains(voice, StringComparer.Ordinal))
        {
            return voice;
        }
        var openai = deployment.Provider.Kind.Name == "openai";
        return !openai && voice.Length <= 200 && voice.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/') ? voice : null;
    }

    public async Task<SpeechAudio> SynthesizeAsync(MediaCall call, SpeechInput input, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = call.Deployment.VendorModel,
            ["input"] = input.Text,
            ["voice"] = input.Voice,
            ["response_format"] = Audio.AudioConverter.Name(input.Requested),
            ["speed"] = input.Speed,
        };
        if (input.Instructions is { Length: > 0 } instructions)
        {
            body["instructions"] = instructions;
        }
        var response = await SendAsync(call, "/audio/speech", VendorHttp.JsonContent(body), ct);
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                await ReadJsonAsync(call, response, ct); // throws the vendor's error
            }
        }
        var stream = await response.Content.ReadAsStreamAsync(ct);
        return new SpeechAudio(input.Requested, input.Requested == AudioEncoding.Pcm16 ? 24_000 : 0, ReadAsync(response, stream, call.MaxResponseBytes, ct));
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(HttpResponseMessage response, Stream stream, long limit,
        [EnumeratorCancellation] CancellationToken ct)
    {
        using (response)
        await using (stream)
        {
            var total = 0L;
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, ct)) > 0)
            {
                total += n;
                if (total > limit)
                {
                    throw VendorError.Server($"the provider's audio exceeded {limit} bytes");
                }
                yield return buffer.AsMemory(0, n).ToArray();
            }
        }
    }

    public async Task<OcrPageText> RecognizeAsync(MediaCall call, OcrInput input, CancellationToken ct)
    {
        var instruction = OcrInstruction + (input.Languages.Count > 0 ? $" The text is in {string.Join(", ", input.Languages)}." : "");
        var body = new JsonObject
        {
            ["model"] = call.Deployment.VendorModel,
            ["temperature"] = 0,
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "text", ["text"] = instruction },
                    new JsonObject
                    {
                        ["type"] = "image_url",
                        ["image_url"] = new JsonObject { ["url"] = $"data:{input.Page.MediaType};base64,{Convert.ToBase64String(input.Page.Image)}" },
                    }),
            }),
        };
        using var response = await SendAsync(call, "/chat/completions", VendorHttp.JsonContent(body), ct);
        var answer = await ReadJsonAsync(call, response, ct);
        var markdown = (answer["choices"]?[0]?["message"]?["content"]?.GetValue<string>() ?? throw VendorError.Server("the provider's answer has no content")).Trim();
        markdown = StripFence(markdown);
        return new OcrPageText(Markdig.Markdown.ToPlainText(markdown).Trim(), markdown);
    }

    // Vision models often wrap their Markdown in a ```markdown fence.
    private static string StripFence(string text)
    {
        if (!text.StartsWith("```", StringComparison.Ordinal) || !text.EndsWith("```", StringComparison.Ordinal) || text.Length < 6)
        {
            return text;
        }
        var firstLine = text.IndexOf('\n');
        return firstLine < 0 ? text : text[(firstLine + 1)..^3].Trim();
    }

    private static async Task<HttpResponseMessage> SendAsync(MediaCall call, string path, HttpContent content, CancellationToken ct)
    {
        var provider = call.Deployment.Provider;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(provider.BaseUrl.AbsoluteUri.TrimEnd('/') + path)) { Content = content };
        if (!string.IsNullOrEmpty(provider.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", provider.ApiKey);
        }
        request.Version = System.Net.HttpVersion.Version11;
        request.Options.Set(Gateway.Forwarding.UpstreamCaller.ConnectTimeoutOption, call.ConnectTimeout);
        request.Headers.TryAddWithoutValidation("x-mulan-request-id", call.RequestId);
        foreach (var (name, value) in provider.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await call.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    /// <summary>The body as a JSON object; an error status becomes the canonical <see cref="VendorError"/>.</summary>
    private static async Task<JsonObject> ReadJsonAsync(MediaCall call, HttpResponseMessage response, CancellationToken ct)
    {
        var json = await VendorHttp.ReadJsonAsync(response, response.IsSuccessStatusCode ? call.MaxResponseBytes : 64 * 1024, ct);
        if (response.IsSuccessStatusCode)
        {
            return json as JsonObject ?? throw VendorError.Server("the provider answered with a body that is not JSON");
        }
        var status = (int)response.StatusCode;
        var error = json?["error"];
        var code = error?["code"] is JsonValue c && c.TryGetValue<string>(out var s) ? s : error?["type"]?.ToString();
        var message = error?["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : VendorHttp.Describe(json, status);
        throw code switch
        {
            "insufficient_quota" => VendorError.Quota(message),
            "content_filter" or "content_policy_violation" => VendorError.Filtered(message),
            _ => VendorError.ForStatus(status, message, VendorHttp.RetryAfter(response)),
        };
    }
}
