using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;

namespace Mulan.Speech.Adapters.DashScope;

/// <summary>
/// Alibaba DashScope (Model Studio) speech over its WebSocket inference API (<c>wss://dashscope.aliyuncs.com/api-ws/v1/inference</c>,
/// <c>Authorization: Bearer &lt;key&gt;</c>): real-time recognition (<c>paraformer-realtime-v2</c> and the other
/// <c>task: asr, function: recognition</c> models, 16 kHz PCM sent as binary frames) and synthesis (<c>cosyvoice-v1/v2</c> with
/// text in <c>continue-task</c>; <c>sambert-*</c> with the text in <c>run-task</c>), PCM streamed as binary frames arrive.
/// With a base URL other than https, the socket is <c>ws://authority/api-ws/v1/inference</c>.
/// </summary>
public sealed class DashScopeSpeechAdapter(TimeProvider time) : ITranscriptionAdapter, ISpeechAdapter
{
    /// <summary>100 ms of 16 kHz 16-bit audio per binary frame, the size the real-time API documents as typical.</summary>
    public const int AudioFrameBytes = 3200;

    /// <summary>CosyVoice's default output rate (22.05 kHz); Sambert voices are 16 kHz models.</summary>
    public const int CosyVoiceRate = 22050;
    public const int SambertRate = 16000;

    /// <summary>Languages paraformer-realtime-v2 takes as <c>language_hints</c> (its API reference).</summary>
    private static readonly HashSet<string> LanguageHints = ["zh", "en", "ja", "yue", "ko", "de", "fr", "ru"];

    public WireProtocol Protocol => WireProtocol.DashScope;

    public async Task<Transcript> TranscribeAsync(MediaCall call, TranscriptionInput input, CancellationToken ct)
    {
        var parameters = new JsonObject { ["format"] = "pcm", ["sample_rate"] = 16000 };
        var language = input.Language?.ToLowerInvariant();
        if (language is not null && LanguageHints.Contains(language))
        {
            parameters["language_hints"] = new JsonArray(language);
        }
        using var socket = await DashScopeSocket.ConnectAsync(call, time, ct);
        try
        {
            await socket.SendActionAsync("run-task", new JsonObject
            {
                ["task_group"] = "audio",
                ["task"] = "asr",
                ["function"] = "recognition",
                ["model"] = call.Deployment.VendorModel,
                ["parameters"] = parameters,
                ["input"] = new JsonObject(),
            }, "duplex", ct);
            await socket.WaitStartedAsync(ct);
            // Results may come while audio is still going out: read them at the same time, so that a task-failed
            // mid-way is reported as itself and not as a broken send.
            var results = CollectSentencesAsync(socket, ct);
            try
            {
                for (var offset = 0; offset < input.Pcm16k.Length; offset += AudioFrameBytes)
                {
                    await socket.SendAudioAsync(input.Pcm16k.Slice(offset, Math.Min(AudioFrameBytes, input.Pcm16k.Length - offset)), ct);
                }
                await socket.SendActionAsync("finish-task", new JsonObject { ["input"] = new JsonObject() }, "duplex", ct);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException)
            {
                // The server went away while we were sending: what it said last (a task-failed) tells why, if it said it.
                await Task.WhenAny(results, Task.Delay(TimeSpan.FromSeconds(2), ct));
                if (results.IsFaulted)
                {
                    await results;
                }
                throw;
            }
            var sentences = await results;
            var text = Join(sentences.Select(s => s.Text));
            return new Transcript(text, language, sentences);
        }
        finally
        {
            await socket.CloseAsync();
        }
    }

    private static async Task<List<TranscriptSegment>> CollectSentencesAsync(DashScopeSocket socket, CancellationToken ct)
    {
        // Final sentences by id: the service may repeat one (the same sentence_id), the last word wins.
        var sentences = new SortedDictionary<long, TranscriptSegment>();
        while (true)
        {
            var next = await socket.ReceiveAsync(ct) ?? throw new IOException("DashScope closed the socket before task-finished");
            if (next.Event is not { } e)
            {
                continue;
            }
            switch (DashScopeSocket.EventName(e))
            {
                case "task-finished":
                    return [.. sentences.Values];
                case "task-failed":
                    throw DashScopeSocket.Failure(e);
                case "result-generated":
                    if (e["payload"]?["output"]?["sentence"] is JsonObject sentence && Bool(sentence["sentence_end"]) && !Bool(sentence["heartbeat"]))
                    {
                        var begin = Number(sentence["begin_time"]) ?? 0;
                        var last = (sentence["words"] as JsonArray)?.LastOrDefault();
                        var end = Number(sentence["end_time"]) ?? Number(last?["end_time"]) ?? begin;
                        var id = Number(sentence["sentence_id"]) is { } n ? (long)n : (long)begin;
                        sentences[id] = new TranscriptSegment(begin / 1000.0, end / 1000.0, DashScopeSocket.Text(sentence["text"]) ?? "");
                    }
                    break;
            }
        }
    }

    private static bool Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static double? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary>Sentences joined as written: Chinese without spaces, a space between two Latin ends.</summary>
    public static string Join(IEnumerable<string> sentences)
    {
        var text = new StringBuilder();
        foreach (var s in sentences.Where(s => s.Length > 0))
        {
            if (text.Length > 0 && char.IsAsciiLetterOrDigit(text[^1]) || text.Length > 0 && text[^1] is '.' or ',' or '?' or '!')
            {
                text.Append(' ');
            }
            text.Append(s);
        }
        return text.ToString();
    }

    public string? ResolveVoice(Deployment deployment, string voice, string text) => DashScopeVoices.Resolve(deployment.VendorModel, voice);

    public IReadOnlyCollection<string> Voices(Deployment deployment) => DashScopeVoices.Of(deployment.VendorModel);

    public async Task<SpeechAudio> SynthesizeAsync(MediaCall call, SpeechInput input, CancellationToken ct)
    {
        var model = call.Deployment.VendorModel;
        var sambert = DashScopeVoices.IsSambert(model);
        var rate = sambert ? SambertRate : CosyVoiceRate;
        var parameters = new JsonObject
        {
            ["text_type"] = "PlainText",
            ["format"] = "pcm",
            ["sample_rate"] = rate,
            ["volume"] = 50,
            // Speaking rate 0.5–2 (both families); OpenAI's 0.25–4 is clamped into it.
            ["rate"] = Math.Clamp(input.Speed, 0.5, 2.0),
            ["pitch"] = 1.0,
        };
        if (!sambert)
        {
            parameters["voice"] = input.Voice;
        }
        var socket = await DashScopeSocket.ConnectAsync(call, time, ct);
        try
        {
            // Sambert takes the whole text in run-task and streams out; CosyVoice is duplex, the text in continue-task.
            await socket.SendActionAsync("run-task", new JsonObject
            {
                ["task_group"] = "audio",
                ["task"] = "tts",
                ["function"] = "SpeechSynthesizer",
                ["model"] = model,
                ["parameters"] = parameters,
                ["input"] = sambert ? new JsonObject { ["text"] = input.Text } : new JsonObject(),
            }, sambert ? "out" : "duplex", ct);
            await socket.WaitStartedAsync(ct);
            if (!sambert)
            {
                await socket.SendActionAsync("continue-task", new JsonObject { ["input"] = new JsonObject { ["text"] = input.Text } }, "duplex", ct);
                await socket.SendActionAsync("finish-task", new JsonObject { ["input"] = new JsonObject() }, "duplex", ct);
            }
        }
        catch
        {
            await socket.CloseAsync();
            socket.Dispose();
            throw;
        }
        return new SpeechAudio(AudioEncoding.Pcm16, rate, AudioAsync(socket, ct));
    }

    /// <summary>Binary frames as they arrive, until <c>task-finished</c>; the socket is closed when the enumeration ends.</summary>
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> AudioAsync(DashScopeSocket socket, [EnumeratorCancellation] CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var next = await socket.ReceiveAsync(ct) ?? throw new IOException("DashScope closed the socket before task-finished");
                if (next.Audio is { Length: > 0 } audio)
                {
                    yield return audio;
                    continue;
                }
                if (next.Event is { } e)
                {
                    switch (DashScopeSocket.EventName(e))
                    {
                        case "task-finished":
                            yield break;
                        case "task-failed":
                            throw DashScopeSocket.Failure(e);
                    }
                }
            }
        }
        finally
        {
            await socket.CloseAsync();
            socket.Dispose();
        }
    }
}
