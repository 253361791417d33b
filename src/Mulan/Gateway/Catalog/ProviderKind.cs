using System.Collections.Frozen;

namespace Mulan.Gateway.Catalog;

/// <summary>The wire protocol a provider speaks; each has one adapter (OpenAI-compatible ones are passed through).</summary>
public enum WireProtocol { OpenAICompatible, Anthropic, Gemini, AzureOpenAI, Ollama, Hunyuan, Spark, DashScope, IFlytek, TencentCloud, Local }

/// <summary>A provider kind as written in configuration, with the protocol it speaks and its default base URL.</summary>
public sealed record ProviderKind(string Name, WireProtocol Protocol, string? DefaultBaseUrl, bool IsLocal = false)
{
    /// <summary>Every kind Mulan knows. Native kinds speak the vendor's own protocol; the others are OpenAI-compatible
    /// endpoints with a known base URL (<c>-openai</c> names the compatible endpoint of a vendor that has both).</summary>
    public static readonly FrozenDictionary<string, ProviderKind> All = new ProviderKind[]
    {
        new("openai", WireProtocol.OpenAICompatible, "https://api.openai.com/v1"),
        new("anthropic", WireProtocol.Anthropic, "https://api.anthropic.com/v1"),
        new("gemini", WireProtocol.Gemini, "https://generativelanguage.googleapis.com/v1beta"),
        new("azure-openai", WireProtocol.AzureOpenAI, null),
        new("deepseek", WireProtocol.OpenAICompatible, "https://api.deepseek.com/v1"),
        new("qwen", WireProtocol.OpenAICompatible, "https://dashscope.aliyuncs.com/compatible-mode/v1"),
        new("moonshot", WireProtocol.OpenAICompatible, "https://api.moonshot.cn/v1"),
        new("zhipu", WireProtocol.OpenAICompatible, "https://open.bigmodel.cn/api/paas/v4"),
        new("qianfan", WireProtocol.OpenAICompatible, "https://qianfan.baidubce.com/v2"),
        new("hunyuan", WireProtocol.Hunyuan, "https://hunyuan.tencentcloudapi.com"),
        new("hunyuan-openai", WireProtocol.OpenAICompatible, "https://api.hunyuan.cloud.tencent.com/v1"),
        new("spark", WireProtocol.Spark, "https://spark-api.xf-yun.com"),
        new("spark-openai", WireProtocol.OpenAICompatible, "https://spark-api-open.xf-yun.com/v1"),
        new("dashscope", WireProtocol.DashScope, "https://dashscope.aliyuncs.com"),
        // Speech and OCR vendors. iFlytek dictation and synthesis live on two hosts (iat-api, tts-api): with the default
        // base URL each call goes to its own host; a base URL that is set serves both paths.
        new("iflytek", WireProtocol.IFlytek, "https://iat-api.xfyun.cn"),
        // Tencent Cloud API 3.0 products (asr, ocr): with the default base URL each product's host is <product>.tencentcloudapi.com.
        new("tencent-cloud", WireProtocol.TencentCloud, "https://tencentcloudapi.com"),
        new("siliconflow", WireProtocol.OpenAICompatible, "https://api.siliconflow.cn/v1"),
        new("ollama", WireProtocol.Ollama, "http://127.0.0.1:11434", IsLocal: true),
        new("ollama-openai", WireProtocol.OpenAICompatible, "http://127.0.0.1:11434/v1", IsLocal: true),
        new("vllm", WireProtocol.OpenAICompatible, "http://127.0.0.1:8000/v1", IsLocal: true),
        new("llamacpp", WireProtocol.OpenAICompatible, "http://127.0.0.1:8080/v1", IsLocal: true),
        // The built-in engines (Tesseract, espeak-ng, pocketsphinx, Whisper): always present as the provider named "local".
        new("local", WireProtocol.Local, "http://127.0.0.1/", IsLocal: true),
    }.ToFrozenDictionary(k => k.Name, StringComparer.OrdinalIgnoreCase);

}
