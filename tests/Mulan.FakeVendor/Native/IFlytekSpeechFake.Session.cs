using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.FakeVendor.Native;

internal sealed partial class IFlytekSpeechFake
{
    /// <summary>One IAT or TTS connection: the request frames checked as iFlytek checks them, then the answer frames.</summary>
    private sealed class Session(HttpContext context, VendorState state, WebSocket socket, string id, string endpoint)
    {
        private FakeFault? _fault;

        public async Task DictateAsync()
        {
            string language, accent;
            bool wpgs;
            int rate;
            long bytes = 0;
            var frames = 0;
            try
            {
                using var first = await ReceiveAsync() ?? throw new Invalid(10114, Messages[10114]);
                frames++;
                var root = first.RootElement;
                CheckAppId(root);
                var business = Object(root, "business");
                language = Str(business, "language");
                accent = business.TryGetProperty("accent", out _) ? Str(business, "accent") : "mandarin";
                if (language is not ("zh_cn" or "en_us") || Str(business, "domain") != "iat"
                    || (language == "zh_cn" && accent is not ("mandarin" or "cantonese")))
                {
                    throw new Invalid(10163, $"{Messages[10163]}: language/domain/accent");
                }
                if (business.TryGetProperty("vad_eos", out var eos) && (!eos.TryGetInt32(out var e) || e is < 0 or > 10_000))
                {
                    throw new Invalid(10163, $"{Messages[10163]}: vad_eos");
                }
                wpgs = business.TryGetProperty("dwa", out var dwa) && dwa.GetString() == "wpgs";
                if (wpgs && (language != "zh_cn" || accent != "mandarin"))
                {
                    throw new Invalid(10163, $"{Messages[10163]}: dwa wpgs is offered for Mandarin only");
                }
                var data = Object(root, "data");
                if (Int(data, "status") != 0)
                {
                    throw new Invalid(10163, $"{Messages[10163]}: the first frame must have data.status 0");
                }
                rate = Str(data, "format") switch
                {
                    "audio/L16;rate=16000" => 16_000,
                    "audio/L16;rate=8000" => 8_000,
                    _ => throw new Invalid(10163, $"{Messages[10163]}: data.format"),
                };
                if (Str(data, "encoding") != "raw")
                {
                    throw new Invalid(10163, $"{Messages[10163]}: this fake takes encoding raw");
                }
                bytes += Audio(data).Length;
                await FaultAsync();
                var status = 0;
                while (status != 2)
                {
                    using var next = await ReceiveAsync() ?? throw new Invalid(10114, Messages[10114]);
                    frames++;
                    var d = Object(next.RootElement, "data");
                    status = Int(d, "status");
                    if (status is not (1 or 2))
                    {
                        throw new Invalid(10163, $"{Messages[10163]}: data.status {status} after the first frame");
                    }
                    if ((d.TryGetProperty("format", out var f) && f.GetString() != Str(data, "format"))
                        || (d.TryGetProperty("encoding", out var enc) && enc.GetString() != "raw"))
                    {
                        throw new Invalid(10163, $"{Messages[10163]}: format changed within the session");
                    }
                    bytes += Audio(d).Length;
                    if (bytes > (long)MaxAudioSeconds * rate * 2)
                    {
                        throw new Invalid(10163, $"{Messages[10163]}: audio longer than {MaxAudioSeconds} s");
                    }
                }
            }
            catch (Invalid invalid)
            {
                await FailAsync("iat", invalid.Code, invalid.Message);
                return;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
            {
                await FailAsync("iat", 10160, $"{Messages[10160]}: {e.Message}");
                return;
            }
            if (bytes % 2 != 0)
            {
                await FailAsync("iat", 10163, $"{Messages[10163]}: an odd number of bytes is not 16-bit audio");
                return;
            }
            var seconds = bytes / (rate * 2.0);
            var totalMs = (int)Math.Round(seconds * 1000);
            var half = totalMs / 2;
            var s = seconds.ToString("0.00", CultureInfo.InvariantCulture);
            var (s1, s2) = language == "en_us"
                ? ($"Received {s} s of English audio, ", $"{bytes} bytes in {frames} frames.")
                : ($"收到{(accent == "cantonese" ? "粤语" : "普通话")}音频{s}秒，", $"共{bytes}字节{frames}帧。");
            var results = new List<JsonObject>();
            if (wpgs)
            {
                results.Add(Result(1, "apd", null, s1[..2] + "错字", 0, half, false));
                results.Add(Result(2, "rpl", (1, 1), s1, 0, half, false));
                results.Add(Result(3, "apd", null, "共几字节", half, totalMs, false));
                results.Add(Result(4, "rpl", (3, 3), s2, half, totalMs, true));
            }
            else
            {
                results.Add(Result(1, null, null, s1, 0, half, false));
                results.Add(Result(2, null, null, s2, half, totalMs, true));
            }
            await AnswerAsync("iat", results.Select((r, i) => Frame(i == results.Count - 1 ? 2 : 1, new JsonObject { ["result"] = r })).ToList());
        }

        public async Task SynthesizeAsync()
        {
            string voice;
            int rate;
            string text;
            try
            {
                using var request = await ReceiveAsync() ?? throw new Invalid(10114, Messages[10114]);
                var root = request.RootElement;
                CheckAppId(root);
                var business = Object(root, "business");
                if (Str(business, "aue") != "raw")
                {
                    throw new Invalid(10163, $"{Messages[10163]}: this fake serves aue raw only");
                }
                rate = !business.TryGetProperty("auf", out var auf) ? 16_000 : auf.GetString() switch
                {
                    "audio/L16;rate=16000" => 16_000,
                    "audio/L16;rate=8000" => 8_000,
                    _ => throw new Invalid(10163, $"{Messages[10163]}: auf"),
                };
                voice = Str(business, "vcn");
                if (!BasicVoices.Contains(voice) && !FeaturedVoice().IsMatch(voice))
                {
                    throw new Invalid(11200, $"{Messages[11200]}: vcn {voice}");
                }
                foreach (var name in new[] { "speed", "volume", "pitch" })
                {
                    if (business.TryGetProperty(name, out var v) && (!v.TryGetInt32(out var n) || n is < 0 or > 100))
                    {
                        throw new Invalid(10163, $"{Messages[10163]}: {name} must be 0–100");
                    }
                }
                if (business.TryGetProperty("tte", out var tte) && tte.GetString() != "UTF8")
                {
                    throw new Invalid(10163, $"{Messages[10163]}: this fake takes tte UTF8");
                }
                var data = Object(root, "data");
                var base64 = Str(data, "text");
                if (Int(data, "status") != 2 || base64.Length == 0 || base64.Length >= MaxTextBase64)
                {
                    throw new Invalid(10163, $"{Messages[10163]}: data.status must be 2 and data.text 1–7999 base64 bytes");
                }
                try
                {
                    text = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(base64));
                }
                catch (Exception e) when (e is FormatException or DecoderFallbackException)
                {
                    throw new Invalid(10161, Messages[10161]);
                }
                await FaultAsync();
            }
            catch (Invalid invalid)
            {
                await FailAsync("tts", invalid.Code, invalid.Message);
                return;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
            {
                await FailAsync("tts", 10160, $"{Messages[10160]}: {e.Message}");
                return;
            }
            var characters = text.EnumerateRunes().Count();
            var pcm = Tone(characters * rate / 10, rate);
            var frameBytes = rate * 2 / 5;
            var frames = new List<byte[]>();
            for (var at = 0; at < pcm.Length; at += frameBytes)
            {
                var last = at + frameBytes >= pcm.Length;
                var audio = pcm.AsSpan(at, Math.Min(frameBytes, pcm.Length - at));
                frames.Add(Frame(last ? 2 : 1, new JsonObject
                {
                    ["audio"] = Convert.ToBase64String(audio),
                    ["ced"] = (characters * (long)(at + audio.Length) / pcm.Length).ToString(CultureInfo.InvariantCulture),
                }));
            }
            await AnswerAsync(voice, frames);
        }

        // Sends the answer frames, honouring a queued fault; the server closes after the last frame, as iFlytek's does.
        private async Task AnswerAsync(string model, List<byte[]> frames)
        {
            if (_fault is FakeFault.SlowFirstByte slow && !await ChatHandler.DelayAsync(context, (int)slow.Delay.TotalMilliseconds))
            {
                state.Bill(context, id, endpoint, model, 0, 0, BillOutcome.ClientAborted, streamed: true);
                return;
            }
            for (var i = 0; i < frames.Count; i++)
            {
                if (_fault is FakeFault.ResetAfter reset && i == Math.Min(reset.Chunks, frames.Count - 1))
                {
                    state.Bill(context, id, endpoint, model, 0, 0, BillOutcome.Reset, streamed: true);
                    await CloseAsync();
                    return;
                }
                if (_fault is FakeFault.ErrorEvent error && i == Math.Min(error.AfterChunks, frames.Count - 1))
                {
                    await FailAsync(model, 10700, error.Message ?? Messages[10700]);
                    return;
                }
                if (i == frames.Count - 1)
                {
                    // Billed before the last frame goes out: a client that has read it finds the bill in the ledger.
                    state.Bill(context, id, endpoint, model, 0, 0, BillOutcome.Completed, streamed: true);
                }
                if (!await SendAsync(frames[i]))
                {
                    return;
                }
            }
            await CloseAsync();
        }

        private async Task FaultAsync()
        {
            _fault = state.TakeFault();
            if (_fault is FakeFault.Status status)
            {
                var code = CodeOf(status);
                throw new Invalid(code, Messages.GetValueOrDefault(code, "error"));
            }
            await Task.CompletedTask;
        }

        private static void CheckAppId(JsonElement root)
        {
            if (!root.TryGetProperty("common", out var common) || !common.TryGetProperty("app_id", out var app) || app.GetString() != SparkFake.AppId)
            {
                throw new Invalid(10313, Messages[10313]);
            }
        }

        private static JsonElement Object(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : throw new Invalid(10163, $"{Messages[10163]}: {name} is required");

        private static string Str(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new Invalid(10163, $"{Messages[10163]}: {name} is required");

        private static int Int(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var value) && value.TryGetInt32(out var i) ? i : throw new Invalid(10163, $"{Messages[10163]}: {name} is required");

        private static byte[] Audio(JsonElement data)
        {
            try
            {
                return Convert.FromBase64String(Str(data, "audio"));
            }
            catch (FormatException)
            {
                throw new Invalid(10161, Messages[10161]);
            }
        }

        private static JsonObject Result(int sn, string? pgs, (int From, int To)? rg, string text, int bg, int ed, bool last)
        {
            var ws = new JsonArray();
            // Two characters per word, as the engine's word segmentation would roughly give.
            for (var i = 0; i < text.Length; i += 2)
            {
                ws.Add(new JsonObject { ["bg"] = bg / 10, ["cw"] = new JsonArray(new JsonObject { ["sc"] = 0, ["w"] = text.Substring(i, Math.Min(2, text.Length - i)) }) });
            }
            var result = new JsonObject { ["sn"] = sn, ["ls"] = last, ["bg"] = bg, ["ed"] = ed, ["ws"] = ws };
            if (pgs is not null)
            {
                result["pgs"] = pgs;
            }
            if (rg is { } range)
            {
                result["rg"] = new JsonArray(range.From, range.To);
            }
            return result;
        }

        private byte[] Frame(int status, JsonObject data)
        {
            data["status"] = status;
            return JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["code"] = 0, ["message"] = "success", ["sid"] = id, ["data"] = data });
        }

        private static byte[] Tone(int samples, int rate)
        {
            var pcm = new byte[samples * 2];
            for (var i = 0; i < samples; i++)
            {
                var value = (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / rate));
                pcm[2 * i] = (byte)value;
                pcm[2 * i + 1] = (byte)(value >> 8);
            }
            return pcm;
        }

        private async Task FailAsync(string model, int code, string message)
        {
            state.BillFailed(context, id, endpoint, model, streamed: true);
            var frame = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["code"] = code, ["message"] = message, ["sid"] = id });
            if (await SendAsync(frame))
            {
                await CloseAsync();
            }
        }

        private async Task<JsonDocument?> ReceiveAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(IdleTimeout);
            var buffer = new byte[16 * 1024];
            using var message = new MemoryStream();
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                    if (received.MessageType == WebSocketMessageType.Close || message.Length + received.Count > MaxFrameBytes)
                    {
                        return null;
                    }
                    message.Write(buffer, 0, received.Count);
                    if (received.EndOfMessage)
                    {
                        var bytes = message.ToArray();
                        if (state.RecordRequests)
                        {
                            state.Requests.Add(new ReceivedRequest("WS", context.Request.Path.Value ?? "", new Dictionary<string, string>(), bytes, DateTimeOffset.UtcNow));
                        }
                        return JsonDocument.Parse(bytes);
                    }
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                return null;
            }
        }

        private async Task<bool> SendAsync(byte[] frame)
        {
            if (context.RequestAborted.IsCancellationRequested || socket.State != WebSocketState.Open)
            {
                return false;
            }
            try
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
                return true;
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                return false;
            }
        }

        private async Task CloseAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                // The client went first; nothing is owed to it any more.
            }
        }
    }
}
