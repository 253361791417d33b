using System.Net.WebSockets;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;
using Mulan.Speech.Adapters;
using Mulan.Speech.Adapters.DashScope;
using Mulan.Speech.Audio;
using Mulan.Tests.Speech.Tencent;

namespace Mulan.Tests.Speech.DashScope;

/// <summary>DashScope's WebSocket speech tasks against the fake: run-task framing, audio frames, sentences, streamed PCM,
/// task-failed codes, a refused handshake, a failure after the first result and a socket dropped early.</summary>
public sealed class DashScopeSpeechAdapterTests : IAsyncLifetime
{
    private FakeVendorServer _fake = null!;
    private readonly HttpClient _client = new();
    private readonly DashScopeSpeechAdapter _adapter = new(TimeProvider.System);

    public async Task InitializeAsync() => _fake = await FakeVendorServer.StartAsync();

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _fake.DisposeAsync();
    }

    private MediaCall Call(string model, string? apiKey = null, long maxResponse = 16 << 20)
    {
        var provider = new Provider("ds", ProviderKind.All["dashscope"], _fake.Origin, apiKey ?? _fake.ApiKey, new Dictionary<string, string>(), CatalogSource.Config);
        return new MediaCall(new Deployment(provider, model, new Price(Currency.CNY, 0, 0, null) { PerSecond = 0.001m }), "req-ds", _client, TimeSpan.FromSeconds(5), maxResponse);
    }

    private static TranscriptionInput Audio(double seconds, string? language = null) =>
        new(new AudioClip([], AudioFormat.Wav), TencentCloudAdapterTests.Tone(seconds), language, null, null);

    private static async Task<byte[]> ReadAllAsync(SpeechAudio audio)
    {
        using var all = new MemoryStream();
        await foreach (var chunk in audio.Chunks)
        {
            all.Write(chunk.Span);
        }
        return all.ToArray();
    }

    [Fact]
    public async Task Recognition_streams_the_pcm_in_100_ms_frames_and_reads_final_sentences()
    {
        var transcript = await _adapter.TranscribeAsync(Call("paraformer-realtime-v2"), Audio(2.5, "zh"), CancellationToken.None);

        // 80 000 bytes in 3 200-byte frames = 25 frames; the partial results are not kept.
        Assert.Equal("收到80000字节音频。时长2.50秒，25帧，语言zh。", transcript.Text);
        Assert.Equal("zh", transcript.Language);
        Assert.Equal(2, transcript.Segments.Count);
        Assert.Equal((0.0, 1.25, "收到80000字节音频。"), (transcript.Segments[0].Start, transcript.Segments[0].End, transcript.Segments[0].Text));
        Assert.Equal(2.5, transcript.Segments[1].End, 3);
        var bill = Assert.Single(_fake.Ledger.Bills);
        Assert.Equal(("transcription", "paraformer-realtime-v2", "completed", "req-ds"), (bill.Endpoint, bill.Model, bill.Outcome, bill.MulanRequestId));
    }

    [Fact]
    public async Task A_language_the_model_has_no_hint_for_is_not_sent()
    {
        var transcript = await _adapter.TranscribeAsync(Call("paraformer-realtime-v2"), Audio(0.2, "xx"), CancellationToken.None);
        Assert.EndsWith("语言none。", transcript.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_key_is_a_refused_handshake_and_an_auth_error()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("paraformer-realtime-v2", apiKey: "sk-wrong"), Audio(0.2), CancellationToken.None));
        Assert.Equal((401, VendorError.AuthFailed), (e.Status, e.Code));
        Assert.DoesNotContain("sk-wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_model_is_reported_by_task_failed()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("paraformer-nonexistent"), Audio(0.2), CancellationToken.None));
        Assert.Equal((404, VendorError.ModelNotFound), (e.Status, e.Code));
    }

    [Theory]
    [InlineData(401, 401, VendorError.AuthFailed)]
    [InlineData(429, 429, VendorError.RateLimited)]
    [InlineData(402, 429, VendorError.QuotaExhausted)]
    [InlineData(400, 400, VendorError.InvalidRequest)]
    [InlineData(451, 400, VendorError.ContentFilter)]
    [InlineData(500, 500, VendorError.ServerError)]
    public async Task Task_failed_codes_map_to_canonical_errors(int injected, int status, string code)
    {
        _fake.Enqueue(new FakeFault.Status(injected));
        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("paraformer-realtime-v2"), Audio(0.2), CancellationToken.None));
        Assert.Equal((status, code), (e.Status, e.Code));
        _fake.Enqueue(new FakeFault.Status(injected));
        var s = await Assert.ThrowsAsync<VendorError>(() => _adapter.SynthesizeAsync(Call("cosyvoice-v1"), new SpeechInput("你好", "longxiaochun", 1, AudioEncoding.Mp3), CancellationToken.None));
        Assert.Equal((status, code), (s.Status, s.Code));
    }

    [Fact]
    public async Task A_task_failed_after_the_first_result_is_an_error_not_a_short_transcript()
    {
        _fake.Enqueue(new FakeFault.ErrorEvent(1));
        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("paraformer-realtime-v2"), Audio(1), CancellationToken.None));
        Assert.Equal(500, e.Status);
        Assert.Contains("InternalError", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_socket_dropped_before_task_finished_is_an_io_failure_not_a_hang()
    {
        _fake.Enqueue(new FakeFault.ResetAfter(1));
        var e = await Record.ExceptionAsync(() => _adapter.TranscribeAsync(Call("paraformer-realtime-v2"), Audio(1), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(e is IOException or WebSocketException, e?.ToString());
    }

    [Fact]
    public async Task Synthesis_streams_pcm_proportional_to_the_text()
    {
        var audio = await _adapter.SynthesizeAsync(Call("cosyvoice-v1"), new SpeechInput("你好，世界", "longxiaochun", 1, AudioEncoding.Mp3), CancellationToken.None);
        Assert.Equal((AudioEncoding.Pcm16, 22050), (audio.Encoding, audio.SampleRate));
        var chunks = 0;
        long total = 0;
        await foreach (var chunk in audio.Chunks)
        {
            chunks++;
            total += chunk.Length;
        }
        // 5 characters × 50 ms at 22 050 Hz = 5 512 samples × 2 bytes, in 4 096-byte frames as they came.
        Assert.Equal(11_024, total);
        Assert.Equal(3, chunks);
        Assert.Equal(("speech", "completed"), (Assert.Single(_fake.Ledger.Bills).Endpoint, _fake.Ledger.Bills[0].Outcome));
    }

    [Fact]
    public async Task Sambert_sends_the_text_in_run_task_at_16_khz()
    {
        var audio = await _adapter.SynthesizeAsync(Call("sambert-zhichu-v1"), new SpeechInput("一二三四", "zhichu", 1, AudioEncoding.Wav), CancellationToken.None);
        Assert.Equal(16000, audio.SampleRate);
        Assert.Equal(4 * 800 * 2, (await ReadAllAsync(audio)).Length);
    }

    [Fact]
    public async Task A_task_failed_between_audio_frames_ends_the_stream_with_the_error()
    {
        _fake.Enqueue(new FakeFault.ErrorEvent(2));
        var audio = await _adapter.SynthesizeAsync(Call("cosyvoice-v1"), new SpeechInput("一段比较长的文字用来产生多个音频帧", "longwan", 1, AudioEncoding.Mp3), CancellationToken.None);
        var received = 0;
        var e = await Assert.ThrowsAsync<VendorError>(async () =>
        {
            await foreach (var chunk in audio.Chunks)
            {
                received++;
            }
        });
        Assert.Equal(2, received);
        Assert.Equal(500, e.Status);
    }

    [Fact]
    public async Task An_answer_over_the_budget_is_a_vendor_error_without_reading_it_all()
    {
        var audio = await _adapter.SynthesizeAsync(Call("cosyvoice-v1", maxResponse: 10_000), new SpeechInput(new string('字', 40), "longwan", 1, AudioEncoding.Mp3), CancellationToken.None);
        var e = await Assert.ThrowsAsync<VendorError>(() => ReadAllAsync(audio));
        Assert.Contains("exceeded 10000 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Voices_resolve_openai_names_and_vendor_names_and_refuse_others()
    {
        var v1 = Call("cosyvoice-v1").Deployment;
        var v2 = Call("cosyvoice-v2").Deployment;
        Assert.Equal("longxiaochun", _adapter.ResolveVoice(v1, "alloy", "hi"));
        Assert.Equal("longxiaochun_v2", _adapter.ResolveVoice(v2, "alloy", "hi"));
        Assert.Equal("longshu", _adapter.ResolveVoice(v1, "LongShu", "hi"));
        Assert.Equal("longshu_v2", _adapter.ResolveVoice(v2, "longshu_v2", "hi"));
        Assert.Null(_adapter.ResolveVoice(v1, "no-such-voice", "hi"));
        Assert.Null(_adapter.ResolveVoice(Call("qwen-tts").Deployment, "alloy", "hi"));
        Assert.Equal("zhichu", _adapter.ResolveVoice(Call("sambert-zhichu-v1").Deployment, "nova", "hi"));
        Assert.Null(_adapter.ResolveVoice(Call("sambert-zhichu-v1").Deployment, "longwan", "hi"));
        Assert.Contains("longxiaochun", _adapter.Voices(v1));
    }

    [Fact]
    public void The_socket_is_wss_for_https_and_ws_for_http()
    {
        Assert.Equal("wss://dashscope.aliyuncs.com/api-ws/v1/inference", DashScopeSocket.SocketUri(new Uri("https://dashscope.aliyuncs.com")).AbsoluteUri);
        Assert.Equal("ws://127.0.0.1:5000/api-ws/v1/inference", DashScopeSocket.SocketUri(new Uri("http://127.0.0.1:5000/api/v1")).AbsoluteUri);
    }
}
