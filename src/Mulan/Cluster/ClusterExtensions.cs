namespace Mulan.Cluster;

public static class ClusterExtensions
{
    /// <summary>What several nodes share: one Redis connection, and change notices over it.</summary>
    public static IServiceCollection AddCluster(this IServiceCollection services)
    {
        services.AddSingleton<SharedRedis>();
        services.AddSingleton<ClusterNotices>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterNotices>());
        return services;
    }
}
