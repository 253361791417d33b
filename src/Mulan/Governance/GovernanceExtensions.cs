using Microsoft.Extensions.Options;
using Mulan.Gateway.Metering;
using Mulan.Governance.Budgets;
using Mulan.Governance.RateLimits;

namespace Mulan.Governance;

public static class GovernanceExtensions
{
    public static IServiceCollection AddGovernance(this IServiceCollection services)
    {
        services.AddOptions<GovernanceOptions>().BindConfiguration(GovernanceOptions.Section)
            // Storage:Redis is the documented name (next to Storage:Postgres); Governance:Redis, the earlier one, still works.
            .Configure<IConfiguration>((o, config) => o.Redis = string.IsNullOrWhiteSpace(o.Redis) ? config["Storage:Redis"] : o.Redis)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GovernanceOptions>, GovernanceOptionsValidator>();
        // With several Mulan nodes the counters and budget accounts must be shared, or each would admit the whole limit.
        services.AddSingleton<IRateLimitStore>(sp => sp.GetRequiredService<Cluster.SharedRedis>() is { Enabled: true } redis
            ? new RedisRateLimitStore(redis.Connection)
            : new InProcessRateLimitStore());
        services.AddSingleton<IBudgetAccounts>(sp => sp.GetRequiredService<Cluster.SharedRedis>() is { Enabled: true } redis
            ? new RedisBudgetAccounts(redis.Connection, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RedisBudgetAccounts>>())
            : new InProcessBudgetAccounts());
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<BudgetGuard>();
        services.AddSingleton<Currencies.ExchangeRates>();
        services.AddSingleton<Governor>();
        services.AddSingleton<Pii.PiiGuard>();
        services.AddSingleton<IUsageObserver>(sp => sp.GetRequiredService<Governor>());
        return services;
    }
}
