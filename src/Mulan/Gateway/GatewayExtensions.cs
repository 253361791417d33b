using Microsoft.Extensions.Options;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Forwarding;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Streaming;

namespace Mulan.Gateway;

public static class GatewayExtensions
{
    public static IServiceCollection AddGateway(this IServiceCollection services)
    {
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSingleton<CatalogState>();
        services.AddSingleton<ModelReferences>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<TokenCounter>();
        // The host's stop waits this long for requests in flight (Kestrel stops first: it was registered last).
        // Read from the configuration itself, not the validated options: the host reads its options when it is built,
        // before start-up validation reports a bad Gateway setting with its name (a bad value here is reported then too).
        services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(
                int.TryParse(configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.ShutdownDrainSeconds)}"], out var seconds) && seconds is >= 0 and <= 3600
                    ? seconds
                    : new GatewayOptions().ShutdownDrainSeconds));
        services.AddSingleton<UsageLedger>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageLedger>());
        services.AddHostedService<UsageRollupService>();
        services.AddSingleton<UpstreamCaller>();
        services.AddSingleton<Caching.ResponseCache>();
        services.AddSingleton<Adapters.IVendorAdapter, Adapters.Anthropic.AnthropicAdapter>();
        services.AddSingleton<Adapters.IVendorAdapter, Adapters.Hunyuan.HunyuanAdapter>();
        services.AddSingleton<Adapters.IVendorAdapter, Adapters.DashScope.DashScopeAdapter>();
        services.AddSingleton<Adapters.IVendorAdapter, Adapters.Spark.SparkAdapter>();
        services.AddSingleton<Adapters.IVendorAdapter, Adapters.AzureOpenAI.AzureOpenAIAdapter>();
        services.AddSingleton<Adapters.IVendorAdapter, Adapters.Gemini.GeminiAdapter>();
        services.AddSingleton<Adapters.IVendorAdapter, Adapters.Ollama.OllamaAdapter>();
        services.AddSingleton<StreamRelay>();
        services.AddSingleton<Routing.DeploymentHealth>();
        services.AddSingleton<GatewayProxy>();
        services.AddSingleton<Probing.ModelProbe>();
        services.AddHttpClient(UpstreamCaller.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => UpstreamCaller.CreateHandler(sp.GetRequiredService<IOptions<GatewayOptions>>().Value))
            // One long-lived handler: the gateway reuses upstream connections; DNS changes are handled by PooledConnectionLifetime.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // Request URIs and timings per call are noise at this volume; failures are logged by the gateway.
            .RemoveAllLoggers();
        return services;
    }
}
