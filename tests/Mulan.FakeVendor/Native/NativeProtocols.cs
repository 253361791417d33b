namespace Mulan.FakeVendor.Native;

/// <summary>The native protocols the fake speaks beside OpenAI's, found by path (and method, header).</summary>
internal static class NativeProtocols
{
    private static readonly NativeProtocol[] All =
    [
        new AnthropicFake(),
        new HunyuanFake(),
        new HunyuanEmbeddingsFake(),
        new TencentSpeechFake(),
        new DashScopeSpeechFake(),
        new DashScopeFake(),
        new DashScopeEmbeddingsFake(),
        new SparkFake(),
        new IFlytekSpeechFake(),
        new AzureOpenAIFake(),
        new GeminiFake(),
        new GeminiEmbeddingsFake(),
        new OllamaFake(),
        new OllamaEmbedFake(),
    ];

    public static NativeProtocol? Find(HttpRequest request) => Array.Find(All, p => p.Serves(request));
}
