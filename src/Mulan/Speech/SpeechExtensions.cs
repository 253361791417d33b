using Microsoft.Extensions.Options;
using Mulan.Speech.Adapters;

namespace Mulan.Speech;

public static class SpeechExtensions
{
    /// <summary>Speech and OCR: the media gateway, audio conversion, the local engines and the vendor adapters.</summary>
    public static IServiceCollection AddSpeech(this IServiceCollection services)
    {
        services.AddOptions<SpeechOptions>().BindConfiguration(SpeechOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SpeechOptions>, SpeechOptionsValidator>();
        services.AddSingleton<Audio.AudioConverter>();
        services.AddSingleton<Engines.WhisperEngine>();
        services.AddSingleton<MediaGateway>();
        services.AddSingleton<IMediaAdapter, Engines.LocalEngineAdapter>();
        services.AddSingleton<IMediaAdapter, Adapters.OpenAI.OpenAIMediaAdapter>();
        services.AddSingleton<IMediaAdapter, Adapters.IFlytek.IFlytekAdapter>();
        services.AddSingleton<IMediaAdapter, Adapters.Tencent.TencentCloudAdapter>();
        services.AddSingleton<IMediaAdapter, Adapters.DashScope.DashScopeSpeechAdapter>();
        return services;
    }
}
