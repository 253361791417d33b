using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Routing;

/// <summary>
/// Per-deployment health and the order a model's deployments are tried in. After
/// <see cref="GatewayOptions.FailuresBeforeCooldown"/> consecutive failures a deployment cools down for
/// <see cref="GatewayOptions.CooldownSeconds"/> (or the vendor's Retry-After, if longer) and is tried after the healthy
/// ones; once the cooldown ends, the next request probes it (half-open): a success closes the breaker, a failure opens
/// it again at once. Successful calls feed a moving average of the time to the response headers, which the
/// <c>lowest-latency</c> strategy orders by.
/// </summary>
public sealed class DeploymentHealth(IOptions<GatewayOptions> options, TimeProvider time)
{
    // Weight of the newest sample in the moving average: about the last ten calls count.
    private const double LatencyAlpha = 0.2;
    // The error rate moves slower: about the last twenty calls count, so one failure shows as 10%, not 100%.
    private const double ErrorAlpha = 0.1;
    private readonly ConcurrentDictionary<(string Provider, string Model), State> _states = new();

    /// <summary>The deployments in the route's strategy order, those cooling down moved to the end (still tried, last).</summary>
    public IReadOnlyList<Deployment> Order(ModelRoute route, IReadOnlyList<Deployment> deployments)
    {
        var now = time.GetUtcNow();
        IReadOnlyList<Deployment> ranked = route.Strategy switch
        {
            // Prices in different currencies cannot be compared without an exchange rate: keep the listed order then.
            RoutingStrategy.LowestCost when deployments.Select(d => d.Price.Currency).Distinct().Count() == 1 =>
                [.. deployments.OrderBy(d => d.PriceAt(now) is var p ? p.Input + p.Output + (p.PerSecond ?? 0) + (p.PerMillionCharacters ?? 0) + (p.PerPage ?? 0) : 0)],
            // A deployment never measured counts as fastest, so each one is tried and measured.
            RoutingStrategy.LowestLatency => [.. deployments.OrderBy(d => _states.TryGetValue(Key(d), out var s) ? s.LatencyMs ?? 0 : 0)],
            RoutingStrategy.Weighted => Weighted(deployments),
            _ => deployments,
        };
        if (_states.IsEmpty)
        {
            return ranked; // the usual case: nothing has failed yet, nothing to reorder
        }
        var cooling = ranked.Where(d => IsCooling(d, now)).ToList();
        return cooling.Count == 0 ? ranked : [.. ranked.Except(cooling), .. cooling];
    }

    /// <summary>A weighted random first choice; the others follow in listed order as fallbacks.</summary>
    private static IReadOnlyList<Deployment> Weighted(IReadOnlyList<Deployment> deployments)
    {
        var pick = Random.Shared.Next(deployments.Sum(d => d.Weight));
        foreach (var d in deployments)
        {
            pick -= d.Weight;
            if (pick < 0)
            {
                return [d, .. deployments.Where(other => !ReferenceEquals(other, d))];
            }
        }
        return deployments;
    }

    public bool IsCooling(Deployment deployment, DateTimeOffset now) =>
        _states.TryGetValue(Key(deployment), out var s) && s.CooldownUntil > now;

    /// <param name="latency">time until the response headers arrived.</param>
    public void Succeeded(Deployment deployment, TimeSpan latency) =>
        _states.AddOrUpdate(Key(deployment),
            _ => new State(0, null, latency.TotalMilliseconds, 1, 0, 0),
            (_, s) => new State(0, null, s.LatencyMs is { } avg ? avg + (LatencyAlpha * (latency.TotalMilliseconds - avg)) : latency.TotalMilliseconds,
                s.Calls + 1, s.Errors, s.ErrorRate * (1 - ErrorAlpha)));

    public void Failed(Deployment deployment, TimeSpan? retryAfter)
    {
        var o = options.Value;
        _states.AddOrUpdate(Key(deployment), _ => Next(new State(0, null, null, 0, 0, 0)), (_, s) => Next(s));

        State Next(State s)
        {
            var failures = s.Failures + 1;
            // The first call of a deployment sets the rate outright; later ones move it.
            s = s with { Calls = s.Calls + 1, Errors = s.Errors + 1, ErrorRate = s.Calls == 0 ? 1 : s.ErrorRate + (ErrorAlpha * (1 - s.ErrorRate)) };
            if (failures < o.FailuresBeforeCooldown && retryAfter is null)
            {
                return s with { Failures = failures };
            }
            var cooldown = TimeSpan.FromSeconds(o.CooldownSeconds);
            if (retryAfter > cooldown)
            {
                cooldown = retryAfter.Value;
            }
            return s with { Failures = failures, CooldownUntil = time.GetUtcNow() + cooldown };
        }
    }

    /// <summary>What operators see of one deployment since the server started.</summary>
    public HealthView StateOf(Deployment deployment)
    {
        if (!_states.TryGetValue(Key(deployment), out var s))
        {
            return new HealthView(0, null, null, 0, 0, 0);
        }
        return new HealthView(s.Failures, s.CooldownUntil > time.GetUtcNow() ? s.CooldownUntil : null, s.LatencyMs, s.Calls, s.Errors, s.ErrorRate);
    }

    private static (string, string) Key(Deployment d) => (d.Provider.Name, d.VendorModel);

    private sealed record State(int Failures, DateTimeOffset? CooldownUntil, double? LatencyMs, long Calls, long Errors, double ErrorRate);
}

/// <param name="ErrorRate">moving average of recent attempts that failed (0 to 1), about the last twenty.</param>
public sealed record HealthView(int ConsecutiveFailures, DateTimeOffset? CooldownUntil, double? LatencyMs, long Calls, long Errors, double ErrorRate);
