using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Routing;

/// <summary>
/// Per-deployment circuit breaker. After <see cref="GatewayOptions.FailuresBeforeCooldown"/> consecutive failures a
/// deployment cools down for <see cref="GatewayOptions.CooldownSeconds"/> (or the vendor's Retry-After, if longer) and
/// is tried after the healthy ones; once the cooldown ends, the next request probes it (half-open): a success closes
/// the breaker, a failure opens it again at once.
/// </summary>
public sealed class DeploymentHealth(IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Provider, string Model), State> _states = new();

    /// <summary>The deployments in priority order, those cooling down moved to the end (still tried, last).</summary>
    public IReadOnlyList<Deployment> Order(IReadOnlyList<Deployment> deployments)
    {
        var now = time.GetUtcNow();
        var cooling = deployments.Where(d => IsCooling(d, now)).ToList();
        return cooling.Count == 0 ? deployments : [.. deployments.Except(cooling), .. cooling];
    }

    public bool IsCooling(Deployment deployment, DateTimeOffset now) =>
        _states.TryGetValue(Key(deployment), out var s) && s.CooldownUntil > now;

    public void Succeeded(Deployment deployment)
    {
        if (_states.TryGetValue(Key(deployment), out var s) && (s.Failures > 0 || s.CooldownUntil is not null))
        {
            _states[Key(deployment)] = new State(0, null);
        }
    }

    public void Failed(Deployment deployment, TimeSpan? retryAfter)
    {
        var o = options.Value;
        _states.AddOrUpdate(Key(deployment),
            _ => Next(new State(0, null)),
            (_, s) => Next(s));

        State Next(State s)
        {
            var failures = s.Failures + 1;
            if (failures < o.FailuresBeforeCooldown && retryAfter is null)
            {
                return new State(failures, s.CooldownUntil);
            }
            var cooldown = TimeSpan.FromSeconds(o.CooldownSeconds);
            if (retryAfter > cooldown)
            {
                cooldown = retryAfter.Value;
            }
            return new State(failures, time.GetUtcNow() + cooldown);
        }
    }

    /// <summary>What operators see of one deployment: its consecutive failures and, while cooling down, until when.</summary>
    public (int ConsecutiveFailures, DateTimeOffset? CooldownUntil) StateOf(Deployment deployment)
    {
        if (!_states.TryGetValue(Key(deployment), out var s))
        {
            return (0, null);
        }
        return (s.Failures, s.CooldownUntil > time.GetUtcNow() ? s.CooldownUntil : null);
    }

    private static (string, string) Key(Deployment d) => (d.Provider.Name, d.VendorModel);

    private sealed record State(int Failures, DateTimeOffset? CooldownUntil);
}
