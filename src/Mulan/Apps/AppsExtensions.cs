using Mulan.Apps.Copywriting;
using Mulan.Apps.Runtime;
using Mulan.Gateway;
using Mulan.Gateway.Catalog;
using Mulan.Knowledge.Lifecycle;

namespace Mulan.Apps;

public static class AppsExtensions
{
    public static IServiceCollection AddApps(this IServiceCollection services)
    {
        services.AddSingleton<AppDirectory>();
        services.AddSingleton<AppService>();
        services.AddSingleton<AppModelCaller>();
        services.AddSingleton<TurnWriter>();
        services.AddSingleton<CopywriterRuntime>();
        services.AddSingleton<AppGateway>();
        services.AddSingleton<IAppModels>(s => s.GetRequiredService<AppGateway>());
        return services;
    }

    /// <summary>Loads the published apps, and tells knowledge bases and model routes which apps use them, so that deleting
    /// one a published app needs is refused with 409 naming the apps.</summary>
    public static async Task InitializeAppsAsync(this IServiceProvider services, CancellationToken ct)
    {
        var directory = services.GetRequiredService<AppDirectory>();
        await directory.LoadAsync(ct);
        services.GetRequiredService<KnowledgeBaseReferences>().Register((kb, _) => Task.FromResult<IReadOnlyList<string>>(
            [.. directory.All.Where(a => a.Definition.KnowledgeBases?.Contains(kb) == true).Select(a => $"app {a.App.Slug}").Order(StringComparer.Ordinal)]));
        services.GetRequiredService<ModelReferences>().Register((model, _) => Task.FromResult<IReadOnlyList<string>>(
            [.. directory.All.Where(a => a.Definition.Model == model).Select(a => $"app {a.App.Slug}").Order(StringComparer.Ordinal)]));
        services.GetRequiredService<Assistant.Tools.ToolReferences>().Register(Assistant.Tools.ToolReferences.AppsUsing(services.GetRequiredService<IAppStore>()));
    }
}
