using System.Buffers.Binary;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;
using Mulan.Speech.Adapters;
using Mulan.Speech.Adapters.Tencent;
using Mulan.Speech.Audio;

namespace Mulan.Tests.Speech.Tencent;

/// <summary>Tencent Cloud SentenceRecognition and GeneralBasicOCR against the fake: TC3 signing with the asr/ocr services,
/// what is sent, limits refused before sending, and each 200-body error mapped.</summary>
public sealed class TencentCloudAdapterTests : IAsyncLifetime
{
    private FakeVendorServer _fake = null!;
    private readonly HttpClient _client = new();

    public async Task InitializeAsync() => _fake = await FakeVendorServer.StartAsync();

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _fake.DisposeAsync();
    }

    private MediaCall Call(string model = "16k_zh", string? apiKey = null, long maxResponse = 16 << 20)
    {
        var provider = new Provider("tc", ProviderKind.All["tencent-cloud"], _fake.Origin, apiKey ?? "AKIDfake:" + _fake.ApiKey,
            new Dictionary<string, string> { ["X-TC-Region"] = "ap-guangzhou" }, CatalogSource.Config);
        var deployment = new Deployment(provider, model, new Price(Currency.CNY, 0, 0, null) { PerSecond = 0.001m });
        return new MediaCall(deployment, "req-1", _client, TimeSpan.FromSeconds(5), maxResponse);
    }

    /// <summary>A 440 Hz sine, 16 kHz 16-bit mono.</summary>
    internal static byte[] Tone(double seconds)
    {
        var samples = (int)(seconds * 16000);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * 2), (short)(Math.Sin(2 * Math.PI * 440 * i / 16000) * 8000));
        }
        return pcm;
    }

    private static TranscriptionInput Audio(double seconds, string? language = null) =>
        new(new AudioClip([], AudioFormat.Wav), Tone(seconds), language, null, null);

    /// <summary>A PNG's signature and IHDR (enough for the fake to read the size), then filler to the wanted length.</summary>
    internal static OcrPageImage Png(int width, int height, int length = 200)
    {
        var bytes = new byte[Math.Max(length, 33)];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), (uint)height);
        return new OcrPageImage(0, bytes, "image/png", width, height);
    }

    private TencentCloudAdapter Adapter(TimeSpan? skew = null) => new(skew is { } s ? new ShiftedClock(s) : TimeProvider.System);

    [Fact]
    public async Task Transcription_sends_the_pcm_signed_for_asr_and_reads_text_and_sentences()
    {
        var transcript = await Adapter().TranscribeAsync(Call(), Audio(2.5), CancellationToken.None);

        // 2.5 s × 16 000 samples × 2 bytes: the fake decoded exactly the PCM that was sent.
        Assert.Equal("收到80000字节。时长2.50秒。", transcript.Text);
        Assert.Equal("zh", transcript.Language);
        Assert.Equal(2, transcript.Segments.Count);
        Assert.Equal("收到80000字节。", transcript.Segments[0].Text);
        Assert.Equal(0, transcript.Segments[0].Start, 3);
        Assert.Equal(1.25, transcript.Segments[0].End, 2);
        Assert.Equal("时长2.50秒。", transcript.Segments[1].Text);
        Assert.Equal(2.5, transcript.Segments[1].End, 2);
        var bill = Assert.Single(_fake.Ledger.Bills);
        Assert.Equal(("16k_zh", "completed", "req-1"), (bill.Model, bill.Outcome, bill.MulanRequestId));
    }

    [Theory]
    [InlineData("sentence", "en", "16k_en")]
    [InlineData("sentence", "yue", "16k_yue")]
    [InlineData("sentence", null, "16k_zh-PY")]
    [InlineData("16k_zh_dialect", "zh", "16k_zh_dialect")]
    public async Task The_engine_comes_from_the_model_when_it_names_one_else_from_the_language(string model, string? language, string engine)
    {
        await Adapter().TranscribeAsync(Call(model), Audio(0.5, language), CancellationToken.None);
        Assert.Equal(engine, Assert.Single(_fake.Ledger.Bills).Model);
    }

    [Fact]
    public async Task A_language_without_an_engine_is_refused_before_sending()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().TranscribeAsync(Call("sentence"), Audio(0.5, "xx"), CancellationToken.None));
        Assert.Equal(400, e.Status);
        Assert.Empty(_fake.Ledger.Bills);
    }

    [Fact]
    public async Task Audio_longer_than_60_seconds_is_refused_before_sending()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().TranscribeAsync(Call(), Audio(61), CancellationToken.None));
        Assert.Equal((400, VendorError.InvalidRequest), (e.Status, e.Code));
        Assert.Empty(_fake.Ledger.Bills);
        // 60 s exactly is within the limit (and within 3 MB after base64).
        var transcript = await Adapter().TranscribeAsync(Call(), Audio(60), CancellationToken.None);
        Assert.Equal("收到1920000字节。时长60.00秒。", transcript.Text);
    }

    [Fact]
    public async Task A_wrong_secret_key_is_an_auth_error()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().TranscribeAsync(Call(apiKey: "AKIDfake:wrong"), Audio(0.5), CancellationToken.None));
        Assert.Equal((401, VendorError.AuthFailed), (e.Status, e.Code));
        Assert.Contains("AuthFailure.SignatureFailure", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_skewed_clock_is_refused_as_an_expired_signature()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter(TimeSpan.FromMinutes(6)).RecognizeAsync(Call(), new OcrInput(Png(64, 32), []), CancellationToken.None));
        Assert.Equal(401, e.Status);
        Assert.Contains("AuthFailure.SignatureExpire", e.Message, StringComparison.Ordinal);
        // Four minutes is within Tencent's five.
        var page = await Adapter(TimeSpan.FromMinutes(4)).RecognizeAsync(Call(), new OcrInput(Png(64, 32), []), CancellationToken.None);
        Assert.NotEmpty(page.Text);
    }

    [Fact]
    public async Task An_apikey_without_the_secret_key_is_an_auth_error_without_sending()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().TranscribeAsync(Call(apiKey: "only-one-part"), Audio(0.5), CancellationToken.None));
        Assert.Equal(401, e.Status);
        Assert.Empty(_fake.Ledger.Bills);
    }

    [Theory]
    [InlineData(401, 401, VendorError.AuthFailed)]
    [InlineData(429, 429, VendorError.RateLimited)]
    [InlineData(402, 429, VendorError.QuotaExhausted)]
    [InlineData(400, 400, VendorError.InvalidRequest)]
    [InlineData(500, 500, VendorError.ServerError)]
    [InlineData(503, 503, VendorError.Overloaded)]
    public async Task Vendor_errors_map_to_canonical_errors(int injected, int status, string code)
    {
        _fake.Enqueue(new FakeFault.Status(injected));
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().TranscribeAsync(Call(), Audio(0.5), CancellationToken.None));
        Assert.Equal((status, code), (e.Status, e.Code));
        _fake.Enqueue(new FakeFault.Status(injected));
        var o = await Assert.ThrowsAsync<VendorError>(() => Adapter().RecognizeAsync(Call(), new OcrInput(Png(64, 32), []), CancellationToken.None));
        Assert.Equal((status, code), (o.Status, o.Code));
    }

    [Fact]
    public async Task A_dropped_connection_is_an_http_failure_not_a_vendor_answer()
    {
        _fake.Enqueue(new FakeFault.ResetAfter(0));
        await Assert.ThrowsAsync<HttpRequestException>(() => Adapter().TranscribeAsync(Call(), Audio(0.5), CancellationToken.None));
    }

    [Fact]
    public async Task An_answer_larger_than_the_limit_is_a_server_error()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().RecognizeAsync(Call(maxResponse: 100), new OcrInput(Png(64, 32), []), CancellationToken.None));
        Assert.Equal(500, e.Status);
        Assert.Contains("exceeded 100 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ocr_reads_lines_in_order_and_groups_them_into_escaped_paragraphs()
    {
        var page = await Adapter().RecognizeAsync(Call(), new OcrInput(Png(640, 480, 1234), ["zh-Hans"]), CancellationToken.None);

        Assert.Equal("图像 1234 字节\n宽 640 高 480\n语言 zh *fake* #1", page.Text);
        // The first two lines are 4 px apart (one paragraph); the third 36 px below (a new one); '*' escaped.
        Assert.Equal("图像 1234 字节\n宽 640 高 480\n\n语言 zh \\*fake\\* #1", page.Markdown);
    }

    [Fact]
    public async Task Ocr_asks_for_auto_when_no_chinese_is_wanted()
    {
        var page = await Adapter().RecognizeAsync(Call(), new OcrInput(Png(64, 32), ["en"]), CancellationToken.None);
        Assert.EndsWith("语言 auto *fake* #1", page.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_without_text_is_an_empty_page()
    {
        var page = await Adapter().RecognizeAsync(Call(), new OcrInput(Png(1, 1), []), CancellationToken.None);
        Assert.Equal(("", ""), (page.Text, page.Markdown));
    }

    [Fact]
    public async Task An_image_the_vendor_cannot_decode_is_a_bad_request()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().RecognizeAsync(Call(),
            new OcrInput(new OcrPageImage(0, [1, 2, 3, 4, 5], "image/png", 1, 1), []), CancellationToken.None));
        Assert.Equal(400, e.Status);
        Assert.Contains("FailedOperation.ImageDecodeFailed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_over_7_mb_after_base64_is_refused_before_sending()
    {
        var e = await Assert.ThrowsAsync<VendorError>(() => Adapter().RecognizeAsync(Call(), new OcrInput(Png(4000, 3000, 5_600_000), []), CancellationToken.None));
        Assert.Equal(400, e.Status);
        Assert.Empty(_fake.Ledger.Bills);
    }

    [Fact]
    public void The_default_base_url_sends_each_product_to_its_own_host()
    {
        var standard = new Uri("https://tencentcloudapi.com");
        Assert.Equal("https://asr.tencentcloudapi.com/", TencentCloudAdapter.Endpoint(standard, "asr").AbsoluteUri);
        Assert.Equal("https://ocr.tencentcloudapi.com/", TencentCloudAdapter.Endpoint(standard, "ocr").AbsoluteUri);
        Assert.Equal("http://127.0.0.1:4567/", TencentCloudAdapter.Endpoint(new Uri("http://127.0.0.1:4567/some/path"), "asr").AbsoluteUri);
    }

    [Fact]
    public void Error_codes_map_by_specific_code_before_family()
    {
        Assert.Equal(400, TencentCloudErrors.Map("LimitExceeded.TooLargeFileError", "", "ocr").Status);
        Assert.Equal(VendorError.RateLimited, TencentCloudErrors.Map("LimitExceeded", "", "ocr").Code);
        Assert.Equal(VendorError.QuotaExhausted, TencentCloudErrors.Map("FailedOperation.UserNotRegistered", "", "asr").Code);
        Assert.Equal(VendorError.QuotaExhausted, TencentCloudErrors.Map("ResourceInsufficient", "", "asr").Code);
        Assert.Equal(VendorError.InvalidRequest, TencentCloudErrors.Map("InvalidParameterValue.ErrorVoicedataTooLong", "", "asr").Code);
        Assert.Equal(VendorError.ServerError, TencentCloudErrors.Map("FailedOperation.ErrorRecognize", "", "asr").Code);
    }

    [Fact]
    public void Markdown_escaping_covers_inline_marks_and_line_starts()
    {
        Assert.Equal("\\# 标题", OcrLayout.Escape("# 标题"));
        Assert.Equal("\\- item", OcrLayout.Escape("- item"));
        Assert.Equal("1\\. 第一", OcrLayout.Escape("1. 第一"));
        Assert.Equal("a\\_b \\[c\\](d) \\`e\\`", OcrLayout.Escape("a_b [c](d) `e`"));
        Assert.Equal("2024年", OcrLayout.Escape("2024年"));
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + shift;
    }
}
