using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Speech.Adapters;
using Mulan.Speech.Adapters.IFlytek;
using Mulan.Speech.Audio;

namespace Mulan.Tests.Speech.IFlytek;

/// <summary>iFlytek dictation against the fake: framing proven by the fake's answer, wpgs assembly, sessions, errors.</summary>
public sealed class IFlytekDictationTests : IFlytekFixture
{
    private readonly IFlytekAdapter _adapter = new(TimeProvider.System);

    private static TranscriptionInput Input(byte[] pcm, string? language = null) =>
        new(new AudioClip([], AudioFormat.Wav), pcm, language, null, null);

    // 1 first frame (1280 bytes) + ceil((n - 1280) / 1280) middle frames + 1 empty last frame.
    private static int FrameCount(int bytes) => 1 + (bytes - 1280 + 1279) / 1280 + 1;

    [Fact]
    public async Task Mandarin_audio_is_framed_in_1280_byte_frames_and_the_wpgs_corrections_are_applied()
    {
        var pcm = Tone(2.5);
        var transcript = await _adapter.TranscribeAsync(Call("iat"), Input(pcm), CancellationToken.None);

        // The fake sends a wrong partial of each sentence and then replaces it (pgs rpl, rg): only the replacements remain.
        Assert.Equal($"收到普通话音频2.50秒，共80000字节{FrameCount(80_000)}帧。", transcript.Text);
        Assert.Equal("zh", transcript.Language);
        Assert.Equal([new TranscriptSegment(0, 1.25, "收到普通话音频2.50秒，"), new TranscriptSegment(1.25, 2.5, $"共80000字节{FrameCount(80_000)}帧。")],
            transcript.Segments);

        var frames = Frames("/v2/iat");
        Assert.Equal(FrameCount(80_000), frames.Count);
        var first = frames[0];
        Assert.Equal("fakeapp", (string?)first["common"]?["app_id"]);
        Assert.Equal("wpgs", (string?)first["business"]?["dwa"]);
        Assert.Equal("mandarin", (string?)first["business"]?["accent"]);
        Assert.Equal(0, (int?)first["data"]?["status"]);
        Assert.All(frames.Skip(1).SkipLast(1), f => Assert.Equal(1, (int?)f["data"]?["status"]));
        Assert.All(frames.SkipLast(2), f => Assert.Equal(1280, Convert.FromBase64String((string)f["data"]!["audio"]!).Length));
        Assert.Equal(2, (int?)frames[^1]["data"]?["status"]);
        Assert.Equal("", (string?)frames[^1]["data"]?["audio"]);
        // The audio arrives unchanged: the frames joined give back the PCM.
        Assert.Equal(pcm, frames.SelectMany(f => Convert.FromBase64String((string)f["data"]!["audio"]!)).ToArray());
    }

    [Theory]
    [InlineData("en", "Received 2.50 s of English audio, 80000 bytes in 64 frames.", "en")]
    [InlineData("yue", "收到粤语音频2.50秒，共80000字节64帧。", "yue")]
    public async Task The_language_picks_the_iat_language_and_accent(string language, string expected, string reported)
    {
        var transcript = await _adapter.TranscribeAsync(Call("iat"), Input(Tone(2.5), language), CancellationToken.None);

        Assert.Equal(expected, transcript.Text);
        Assert.Equal(reported, transcript.Language);
        Assert.Null(Frames("/v2/iat")[0]["business"]?["dwa"]); // dynamic correction is offered for Mandarin only
    }

    [Fact]
    public async Task Audio_over_60_seconds_runs_as_consecutive_sessions_cut_in_a_pause()
    {
        // 130 s with a pause at 57.0–57.3 s: the first cut falls in it, not at the 60 s mark.
        var pcm = Tone(130, silences: (57.0, 0.3));
        var transcript = await _adapter.TranscribeAsync(Call("iat"), Input(pcm), CancellationToken.None);

        var bytes = System.Text.RegularExpressions.Regex.Matches(transcript.Text, "共(\\d+)字节").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(3, bytes.Count);
        Assert.Equal(pcm.Length, bytes.Sum());
        Assert.All(bytes, b => Assert.True(b <= IFlytekAdapter.MaxSessionBytes));
        Assert.InRange(bytes[0] / 32_000.0, 57.0, 57.3);
        // Segments are in seconds of the whole audio: the last one ends at 130 s.
        Assert.Equal(6, transcript.Segments.Count);
        Assert.Equal(130, transcript.Segments[^1].End, 2);
        Assert.Equal(bytes[0] / 32_000.0, transcript.Segments[2].Start, 2);
    }

    [Fact]
    public async Task An_unknown_language_or_model_is_refused_before_anything_is_sent()
    {
        var language = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("iat"), Input(Tone(1), "fr"), CancellationToken.None));
        Assert.Equal(400, language.Status);
        var model = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("whisper-1"), Input(Tone(1)), CancellationToken.None));
        Assert.Equal(404, model.Status);
        var key = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("iat", "fakekey:secret"), Input(Tone(1)), CancellationToken.None));
        Assert.Equal(401, key.Status);
        Assert.Empty(Fake.Requests);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_at_the_handshake_as_auth()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("iat", "fakeapp:fakekey:not-the-secret"), Input(Tone(1)), CancellationToken.None));

        Assert.Equal(401, e.Status);
        Assert.Equal(VendorError.AuthFailed, e.Code);
        Assert.DoesNotContain("not-the-secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_skewed_clock_is_refused_with_403()
    {
        var skewed = new IFlytekAdapter(new ShiftedClock(TimeSpan.FromMinutes(10)));

        var e = await Assert.ThrowsAsync<VendorError>(() => skewed.TranscribeAsync(Call("iat"), Input(Tone(1)), CancellationToken.None));

        Assert.Equal(403, e.Status);
        Assert.Equal(VendorError.AuthFailed, e.Code);
    }

    [Fact]
    public async Task A_wrong_appid_is_answered_with_10313_as_auth()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("iat", $"otherapp:fakekey:{Fake.ApiKey}"), Input(Tone(1)), CancellationToken.None));

        Assert.Equal(401, e.Status);
        Assert.Contains("10313", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10105, 401, VendorError.AuthFailed)]
    [InlineData(10106, 400, VendorError.InvalidRequest)]
    [InlineData(10107, 400, VendorError.InvalidRequest)]
    [InlineData(10110, 429, VendorError.QuotaExhausted)]
    [InlineData(10114, 500, VendorError.ServerError)]
    [InlineData(10160, 400, VendorError.InvalidRequest)]
    [InlineData(10700, 500, VendorError.ServerError)]
    [InlineData(11200, 401, VendorError.AuthFailed)]
    [InlineData(11201, 429, VendorError.QuotaExhausted)]
    [InlineData(11202, 429, VendorError.RateLimited)]
    [InlineData(11203, 429, VendorError.RateLimited)]
    [InlineData(503, 429, VendorError.RateLimited)] // the fake's overload class is iFlytek's concurrency limit, 11203
    [InlineData(500, 500, VendorError.ServerError)]
    public async Task An_error_frame_maps_to_the_canonical_error(int injected, int status, string code)
    {
        Fake.Enqueue(new FakeFault.Status(injected));

        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("iat"), Input(Tone(2)), CancellationToken.None));

        Assert.Equal(status, e.Status);
        Assert.Equal(code, e.Code);
    }

    [Fact]
    public async Task An_error_frame_after_the_first_result_fails_the_call()
    {
        Fake.Enqueue(new FakeFault.ErrorEvent(1));

        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("iat"), Input(Tone(2)), CancellationToken.None));

        Assert.Equal(500, e.Status);
        Assert.Contains("10700", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_socket_closed_before_the_last_result_is_an_io_error_not_a_partial_text()
    {
        Fake.Enqueue(new FakeFault.ResetAfter(2));

        var task = _adapter.TranscribeAsync(Call("iat"), Input(Tone(2)), CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_answer_over_the_byte_budget_is_refused()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => _adapter.TranscribeAsync(Call("iat", maxResponseBytes: 200), Input(Tone(2)), CancellationToken.None));

        Assert.Equal(500, e.Status);
        Assert.Contains("exceeded 200 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audio_the_fake_would_refuse_as_over_60_seconds_is_never_sent_as_one_session()
    {
        // Exactly 60 s is one session; one sample more is two.
        await _adapter.TranscribeAsync(Call("iat"), Input(Tone(60)), CancellationToken.None);
        var sessions = Frames("/v2/iat").Count(f => (int?)f["data"]?["status"] == 0);
        Assert.Equal(1, sessions);

        var longer = new byte[IFlytekAdapter.MaxSessionBytes + 2];
        Tone(60).CopyTo(longer, 0);
        var transcript = await _adapter.TranscribeAsync(Call("iat"), Input(longer), CancellationToken.None);
        Assert.Equal(3, Frames("/v2/iat").Count(f => (int?)f["data"]?["status"] == 0));
        Assert.Equal(2, transcript.Text.Split("收到").Length - 1);
    }

    [Fact]
    public void Endpoints_follow_the_base_url()
    {
        Assert.Equal((new Uri("wss://iat-api.xfyun.cn"), "/v2/iat"), IFlytekAdapter.Endpoint(new Uri("https://iat-api.xfyun.cn"), IFlytekAdapter.IatPath));
        Assert.Equal((new Uri("wss://tts-api.xfyun.cn"), "/v2/tts"), IFlytekAdapter.Endpoint(new Uri("https://iat-api.xfyun.cn/"), IFlytekAdapter.TtsPath));
        Assert.Equal((new Uri("ws://127.0.0.1:5000"), "/v2/tts"), IFlytekAdapter.Endpoint(new Uri("http://127.0.0.1:5000"), IFlytekAdapter.TtsPath));
        Assert.Equal((new Uri("wss://proxy.example"), "/xf/v2/iat"), IFlytekAdapter.Endpoint(new Uri("https://proxy.example/xf/"), IFlytekAdapter.IatPath));
    }

    [Fact]
    public void Replacement_results_remove_the_sentences_they_name()
    {
        var transcript = new IatTranscript();
        transcript.Add(Result(1, "apd", null, "今天"));
        transcript.Add(Result(2, "apd", null, "天汽"));
        transcript.Add(Result(3, "rpl", [1, 2], "今天天气"));
        transcript.Add(Result(4, "apd", null, "很好。"));

        Assert.Equal("今天天气很好。", transcript.Text);
        Assert.Empty(transcript.Segments(0)); // untimed results give no segments
    }

    private static JsonObject Result(int sn, string pgs, int[]? rg, string text)
    {
        var result = new JsonObject { ["sn"] = sn, ["pgs"] = pgs, ["ws"] = new JsonArray(new JsonObject { ["cw"] = new JsonArray(new JsonObject { ["w"] = text }) }) };
        if (rg is not null)
        {
            result["rg"] = new JsonArray(rg[0], rg[1]);
        }
        return (JsonObject)JsonNode.Parse(result.ToJsonString())!; // parsed, as frames arrive
    }
}
