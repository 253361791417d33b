using Mulan.Knowledge.Embedding.Local;

namespace Mulan.Tests.Knowledge.Embedding;

/// <summary>Loads the 90 MB model once for all encoder tests.</summary>
public sealed class LocalSentenceEncoderFixture : IDisposable
{
    public LocalSentenceEncoder Encoder { get; } = LocalSentenceEncoder.Load(intraOpThreads: 1);

    public void Dispose() => Encoder.Dispose();
}

public sealed class LocalSentenceEncoderTests(LocalSentenceEncoderFixture fixture) : IClassFixture<LocalSentenceEncoderFixture>
{
    private readonly LocalSentenceEncoder _encoder = fixture.Encoder;

    private static readonly string[] Mixed =
    [
        "How do I reset my password?",
        "",
        "员工每年享有十五天带薪年假。",
        "Steps to change your account password",
        string.Join(' ', Enumerable.Repeat("The quick brown fox jumps over the lazy dog.", 12)),
        "中文",
        "Héllo wörld, naïve café!",
        "x",
    ];

    [Fact]
    public void Embed_GivesUnitVectorsOf384Dimensions()
    {
        var vectors = _encoder.Embed(Mixed);

        Assert.Equal(384, _encoder.Dimensions);
        Assert.Equal(Mixed.Length, vectors.Length);
        Assert.All(vectors, v =>
        {
            Assert.Equal(384, v.Length);
            Assert.All(v, x => Assert.True(float.IsFinite(x)));
            Assert.Equal(1.0, Math.Sqrt(Dot(v, v)), 4);
        });
    }

    [Fact]
    public void Embed_MatchesAnIndependentReferencePipeline()
    {
        // First dimensions from Hugging Face's Rust tokenizer + onnxruntime-node over the same model, mean pooled and
        // normalized as sentence-transformers does: catches a changed pooling (e.g. taking the model's [CLS] pooler
        // output), padding or tokenization.
        var vectors = _encoder.Embed(["How do I reset my password?", "如何重置我的密码？", ""]);

        AssertStartsWith([0.006903f, -0.063023f, -0.072044f, -0.032496f, -0.042709f, 0.070429f, 0.009074f, 0.015408f], vectors[0]);
        AssertStartsWith([0.013685f, 0.0927f, 0.062036f, 0.007494f, 0.022436f, 0.033111f, 0.177276f, 0.009231f], vectors[1]);
        AssertStartsWith([-0.118838f, 0.048299f, -0.002548f, -0.011011f, 0.051951f, 0.010292f, 0.115433f, 0.000701f], vectors[2]);
    }

    [Fact]
    public void Embed_IsDeterministic()
    {
        Assert.Equal(_encoder.Embed(Mixed), _encoder.Embed(Mixed));
    }

    [Fact]
    public void Embed_NoTexts_GivesNoVectors()
    {
        Assert.Empty(_encoder.Embed([]));
    }

    [Fact]
    public void Embed_RelatedQuestionIsCloserThanAnUnrelatedSentence()
    {
        var v = _encoder.Embed(["How do I reset my password?", "Steps to change your account password", "The cafeteria serves lunch at noon"]);

        Assert.True(Dot(v[0], v[1]) > Dot(v[0], v[2]) + 0.3, $"related {Dot(v[0], v[1]):F3}, unrelated {Dot(v[0], v[2]):F3}");
    }

    [Fact]
    public void Embed_Batched_EqualsOneByOne()
    {
        // More texts than one batch, of very different lengths, so batches are padded.
        var texts = Enumerable.Range(0, 40)
            .Select(i => i % 3 == 0 ? Mixed[i % Mixed.Length] : $"Document {i}: " + string.Join(' ', Enumerable.Repeat("policy", i * 4)))
            .ToArray();

        var batched = _encoder.Embed(texts);

        for (var i = 0; i < texts.Length; i++)
        {
            var single = _encoder.Embed([texts[i]])[0];
            for (var d = 0; d < single.Length; d++)
            {
                Assert.True(Math.Abs(single[d] - batched[i][d]) < 1e-5, $"text {i} dimension {d}: {single[d]} vs {batched[i][d]}");
            }
        }
    }

    [Fact]
    public async Task Embed_FromFourThreadsAtOnce_GivesTheSameVectors()
    {
        var expected = _encoder.Embed(Mixed);
        using var start = new Barrier(4);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return Enumerable.Range(0, 3).Select(_ => _encoder.Embed(Mixed)).ToArray();
        })));

        foreach (var vectors in results.SelectMany(r => r))
        {
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(1.0, Dot(expected[i], vectors[i]), 5);
            }
        }
    }

    [Fact]
    public async Task Dispose_WhileEmbedding_WaitsForTheBatchInFlight_AndLaterCallsAreRefused()
    {
        // A background caller (an assistant run searching a knowledge base) may still be embedding when the server
        // stops and disposes the encoder: running the freed native session would crash the whole process.
        var encoder = LocalSentenceEncoder.Load(intraOpThreads: 1);
        var texts = Enumerable.Range(0, 400).Select(i => $"sentence number {i} about annual leave and passwords").ToArray();
        var started = new TaskCompletionSource();
        var embedding = Task.Run(() =>
        {
            started.SetResult();
            return encoder.Embed(texts);
        });
        await started.Task;
        await Task.Delay(50);
        encoder.Dispose();

        try
        {
            var vectors = await embedding;
            Assert.All(vectors, v => Assert.Equal(384, v.Length));
        }
        catch (ObjectDisposedException)
        {
            // Stopped between two batches: refused, not crashed.
        }
        Assert.Throws<ObjectDisposedException>(() => encoder.Embed(["after"]));
        encoder.Dispose();
    }

    [Fact]
    public void Embed_TextBeyondTheSequenceLimit_IsEmbeddedFromItsBeginning()
    {
        var words = string.Join(' ', Enumerable.Range(0, 300).Select(i => $"clause{i % 7} item"));

        var v = _encoder.Embed([words, words + " and a tail that falls past the limit"]);

        Assert.True(_encoder.Tokenizer.Encode(words, int.MaxValue).Length > LocalSentenceEncoder.MaxSequenceLength);
        Assert.Equal(v[0], v[1]);
    }

    [Fact]
    public void Embed_ChineseText_IsNotTheEmptyTextsVector()
    {
        var v = _encoder.Embed(["", "中文", "员工每年享有十五天带薪年假。"]);

        Assert.True(Dot(v[0], v[1]) < 0.5, $"cos(\"\", 中文) = {Dot(v[0], v[1]):F3}");
        Assert.True(Dot(v[0], v[2]) < 0.5, $"cos(\"\", sentence) = {Dot(v[0], v[2]):F3}");
    }

    [Fact]
    public void Embed_ChineseNearDuplicates_AreCloserThanAnyOtherSentence()
    {
        // The first pairs written, not a selection of ones that pass. Each sentence is nearest its reworded twin,
        // though unrelated Chinese sentences also score high (0.6-0.75): most characters are [UNK] to this English
        // vocabulary, so the model mostly sees the few known characters and the length.
        string[][] pairs =
        [
            ["员工每年享有十五天带薪年假。", "员工每年可以享受十五天的带薪年假。"],
            ["如何重置我的登录密码？", "怎么重置登录密码？"],
            ["公司食堂中午十二点供应午餐。", "公司食堂在中午十二点提供午餐。"],
            ["报销需要在一个月内提交发票。", "报销必须在一个月之内提交发票。"],
            ["服务器今晚十点进行维护升级。", "今晚十点服务器将进行维护升级。"],
            ["新员工入职第一天需要领取工牌。", "新员工在入职第一天要领取工牌。"],
        ];
        var first = _encoder.Embed([.. pairs.Select(p => p[0])]);
        var second = _encoder.Embed([.. pairs.Select(p => p[1])]);

        for (var i = 0; i < pairs.Length; i++)
        {
            var twin = Dot(first[i], second[i]);
            for (var j = 0; j < pairs.Length; j++)
            {
                if (j != i)
                {
                    Assert.True(twin > Dot(first[i], second[j]), $"{pairs[i][0]}: twin {twin:F3} vs {pairs[j][1]} {Dot(first[i], second[j]):F3}");
                    Assert.True(twin > Dot(first[i], first[j]), $"{pairs[i][0]}: twin {twin:F3} vs {pairs[j][0]} {Dot(first[i], first[j]):F3}");
                }
            }
        }
    }

    private static double Dot(float[] a, float[] b)
    {
        var sum = 0d;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static void AssertStartsWith(float[] expected, float[] actual)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"dimension {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
