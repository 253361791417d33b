using System.Text;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Speech.Adapters;
using Mulan.Speech.Adapters.IFlytek;

namespace Mulan.Tests.Speech.IFlytek;

/// <summary>iFlytek online synthesis against the fake: the request frame, PCM streamed as frames arrive, long text, errors.</summary>
public sealed class IFlytekSynthesisTests : IFlytekFixture
{
    private readonly IFlytekAdapter _adapter = new(TimeProvider.System);

    private static SpeechInput Input(string text, string voice = "xiaoyan", double speed = 1) => new(text, voice, speed, AudioEncoding.Mp3);

    private static async Task<List<byte[]>> ReadAllAsync(SpeechAudio audio)
    {
        var chunks = new List<byte[]>();
        await foreach (var chunk in audio.Chunks)
        {
            chunks.Add(chunk.ToArray());
        }
        return chunks;
    }

    [Fact]
    public async Task Text_becomes_16kHz_pcm_in_the_vendors_frames()
    {
        var audio = await _adapter.SynthesizeAsync(Call("tts"), Input("你好，世界。", speed: 2), CancellationToken.None);
        var chunks = await ReadAllAsync(audio);

        Assert.Equal(AudioEncoding.Pcm16, audio.Encoding);
        Assert.Equal(16_000, audio.SampleRate);
        // The fake speaks 0.1 s per character (6 → 19200 bytes) in frames of 0.2 s (6400 bytes).
        Assert.Equal([6400, 6400, 6400], chunks.Select(c => c.Length));
        var pcm = chunks.SelectMany(c => c).ToArray();
        var sample = (short)(pcm[2 * 10] | (pcm[2 * 10 + 1] << 8));
        Assert.Equal((short)(8000 * Math.Sin(2 * Math.PI * 440 * 10 / 16_000.0)), sample);

        var frame = Assert.Single(Frames("/v2/tts"));
        Assert.Equal("fakeapp", (string?)frame["common"]?["app_id"]);
        var business = frame["business"]!;
        Assert.Equal("raw", (string?)business["aue"]);
        Assert.Equal("audio/L16;rate=16000", (string?)business["auf"]);
        Assert.Equal("xiaoyan", (string?)business["vcn"]);
        Assert.Equal(75, (int?)business["speed"]);
        Assert.Equal("UTF8", (string?)business["tte"]);
        Assert.Equal(2, (int?)frame["data"]?["status"]);
        Assert.Equal("你好，世界。", Encoding.UTF8.GetString(Convert.FromBase64String((string)frame["data"]!["text"]!)));
    }

    [Fact]
    public async Task Text_over_the_limit_runs_as_sessions_cut_at_sentence_ends_and_streamed_in_order()
    {
        var sentence = "这是一个用来测试长文本合成的句子。"; // 17 characters, 51 UTF-8 bytes
        var text = string.Concat(Enumerable.Repeat(sentence, 200)); // 10200 bytes
        var chunks = await ReadAllAsync(await _adapter.SynthesizeAsync(Call("tts"), Input(text), CancellationToken.None));

        Assert.Equal(text.Length * 3200, chunks.Sum(c => c.Length));
        var frames = Frames("/v2/tts");
        Assert.Equal(2, frames.Count);
        var sent = frames.Select(f => Encoding.UTF8.GetString(Convert.FromBase64String((string)f["data"]!["text"]!))).ToList();
        Assert.All(frames, f => Assert.True(((string)f["data"]!["text"]!).Length < 8000));
        Assert.Equal(text, string.Concat(sent));
        Assert.All(sent, s => Assert.EndsWith("。", s, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Voices_resolve_to_iflytek_speakers_and_unknown_ones_to_null()
    {
        var deployment = Call("tts").Deployment;

        Assert.Equal("xiaoyan", _adapter.ResolveVoice(deployment, "alloy", "hi"));
        Assert.Equal("aisjiuxu", _adapter.ResolveVoice(deployment, "onyx", "hi"));
        Assert.Equal("aisbabyxu", _adapter.ResolveVoice(deployment, "aisbabyxu", "hi"));
        Assert.Equal("x4_yezi", _adapter.ResolveVoice(deployment, "x4_yezi", "hi"));
        Assert.Null(_adapter.ResolveVoice(deployment, "nobody", "hi"));
        Assert.Null(_adapter.ResolveVoice(deployment, "x9_yezi", "hi"));
        Assert.Null(_adapter.ResolveVoice(deployment, "x4_", "hi"));
        Assert.Equal(["aisbabyxu", "aisjinger", "aisjiuxu", "aisxping", "xiaoyan"], _adapter.Voices(deployment));
        foreach (var openAI in new[] { "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse" })
        {
            Assert.Contains(_adapter.ResolveVoice(deployment, openAI, "hi"), _adapter.Voices(deployment));
        }
        // A featured voice is sent as named and the fake takes it.
        var chunks = await ReadAllAsync(await _adapter.SynthesizeAsync(Call("tts"), Input("好", "x4_yezi"), CancellationToken.None));
        Assert.Equal(3200, chunks.Sum(c => c.Length));
    }

    [Theory]
    [InlineData(0.25, 0)]
    [InlineData(0.5, 25)]
    [InlineData(1.0, 50)]
    [InlineData(2.0, 75)]
    [InlineData(4.0, 100)]
    [InlineData(10.0, 100)]
    public void Speed_maps_onto_iflyteks_0_to_100(double speed, int expected) => Assert.Equal(expected, IFlytekAdapter.Speed(speed));

    [Theory]
    [InlineData(11200, 401, VendorError.AuthFailed)]
    [InlineData(11201, 429, VendorError.QuotaExhausted)]
    [InlineData(429, 429, VendorError.RateLimited)]
    [InlineData(10163, 400, VendorError.InvalidRequest)]
    public async Task A_refusal_is_thrown_before_the_audio_is_returned(int injected, int status, string code)
    {
        Fake.Enqueue(new FakeFault.Status(injected));

        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.SynthesizeAsync(Call("tts"), Input("你好。"), CancellationToken.None));

        Assert.Equal(status, e.Status);
        Assert.Equal(code, e.Code);
    }

    [Fact]
    public async Task The_first_chunk_is_read_before_returning_and_a_later_error_frame_ends_the_stream()
    {
        Fake.Enqueue(new FakeFault.ErrorEvent(1));
        var audio = await _adapter.SynthesizeAsync(Call("tts"), Input("你好，世界。"), CancellationToken.None);

        var chunks = new List<int>();
        var e = await Assert.ThrowsAsync<VendorError>(async () =>
        {
            await foreach (var chunk in audio.Chunks)
            {
                chunks.Add(chunk.Length);
            }
        });
        Assert.Equal([6400], chunks);
        Assert.Equal(500, e.Status);
    }

    [Fact]
    public async Task A_socket_closed_before_the_last_frame_is_an_io_error_after_the_audio_already_streamed()
    {
        Fake.Enqueue(new FakeFault.ResetAfter(2));
        var audio = await _adapter.SynthesizeAsync(Call("tts"), Input("你好，世界。"), CancellationToken.None);

        var chunks = new List<int>();
        await Assert.ThrowsAsync<IOException>(async () =>
        {
            await foreach (var chunk in audio.Chunks)
            {
                chunks.Add(chunk.Length);
            }
        }).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([6400, 6400], chunks);
    }

    [Fact]
    public async Task Signing_failures_are_auth_errors()
    {
        var secret = await Assert.ThrowsAsync<VendorError>(() => _adapter.SynthesizeAsync(Call("tts", "fakeapp:fakekey:wrong"), Input("你好。"), CancellationToken.None));
        Assert.Equal(401, secret.Status);

        var skewed = new IFlytekAdapter(new ShiftedClock(TimeSpan.FromMinutes(-6)));
        var clock = await Assert.ThrowsAsync<VendorError>(() => skewed.SynthesizeAsync(Call("tts"), Input("你好。"), CancellationToken.None));
        Assert.Equal(403, clock.Status);
    }

    [Fact]
    public async Task Audio_over_the_byte_budget_is_refused_while_streaming()
    {
        var audio = await _adapter.SynthesizeAsync(Call("tts", maxResponseBytes: 40_000), Input(new string('好', 100)), CancellationToken.None);

        var read = 0L;
        var e = await Assert.ThrowsAsync<VendorError>(async () =>
        {
            await foreach (var chunk in audio.Chunks)
            {
                read += chunk.Length;
            }
        });
        Assert.Equal(500, e.Status);
        Assert.InRange(read, 1, 40_000);
    }

    [Fact]
    public void Text_is_split_at_sentence_ends_then_clauses_then_characters()
    {
        Assert.Equal(["一二。", "三四！", "五"], IFlytekText.Split("一二。三四！五", 9));
        Assert.Equal(["Hi there.", " Bye."], IFlytekText.Split("Hi there. Bye.", 12));
        Assert.Equal(["一二，", "三四五", "六"], IFlytekText.Split("一二，三四五六", 9));
        var emoji = string.Concat(Enumerable.Repeat("😀", 5)); // 4 UTF-8 bytes, 2 UTF-16 chars each
        var pieces = IFlytekText.Split(emoji, 9);
        Assert.Equal(emoji, string.Concat(pieces));
        Assert.All(pieces, p => Assert.True(Encoding.UTF8.GetByteCount(p) <= 9 && !char.IsHighSurrogate(p[^1])));
    }
}
