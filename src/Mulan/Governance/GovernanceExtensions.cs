using Microsoft.Extensions.Options;
using Mulan.Gateway.Metering;
using Mulan.Governance.Budgets;
using Mulan.Governance.RateLimits;

namespace Mulan.Governance;

public static class GovernanceExtensions
{
    public static IServiceCollection AddGovernance(this IServiceCollection services)
    {
        services.AddOptions<GovernanceOptions>().BindConfiguration(GovernanceOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GovernanceOptions>, GovernanceOptionsValidator>();
        services.AddSingleton<IRateLimitStore>(sp =>
        {
            // With several Mulan instances the counters must be shared, or each would admit the whole limit.
            var redis = sp.GetRequiredService<IOptions<GovernanceOptions>>().Value.Redis;
            return string.IsNullOrWhiteSpace(redis)
                ? new InProcessRateLimitStore()
                : RedisRateLimitStore.Connect(redis);
        });
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<BudgetGuard>();
        services.AddSingleton<Currencies.ExchangeRates>();
        services.AddSingleton<Governor>();
        services.AddSingleton<Pii.PiiGuard>();
        services.AddSingleton<IUsageObserver>(sp => sp.GetRequiredService<Governor>());
        return services;
    }
}
