using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Routing;

public static class RoutingEndpoints
{
    /// <param name="Status"><c>healthy</c>, <c>failing</c> (failures below the cooldown threshold), <c>cooling_down</c> or <c>disabled</c>.</param>
    /// <param name="ErrorRate">share of recent attempts that failed (moving average over about the last twenty).</param>
    public sealed record DeploymentState(string Model, string Strategy, string Provider, string Kind, string VendorModel, int Priority, int Weight,
        bool Enabled, string Status, int ConsecutiveFailures, DateTimeOffset? CooldownUntil, double? LatencyMs, double ErrorRate, long Calls, long Errors);

    public static RouteGroupBuilder MapRouting(this RouteGroupBuilder api)
    {
        api.MapGet("/deployments", (CatalogState catalog, DeploymentHealth health) => TypedResults.Ok(new
        {
            deployments = catalog.Current.Models.Values.OrderBy(m => m.Name, StringComparer.Ordinal).SelectMany(m => m.Deployments.Select((d, i) =>
            {
                var h = health.StateOf(d);
                var status = !d.Settings.Enabled ? "disabled" : h.CooldownUntil is not null ? "cooling_down" : h.ConsecutiveFailures > 0 ? "failing" : "healthy";
                return new DeploymentState(m.Name, CatalogValidator.StrategyName(m.Strategy), d.Provider.Name, d.Provider.Kind.Name, d.VendorModel, i + 1,
                    d.Weight, d.Settings.Enabled, status, h.ConsecutiveFailures, h.CooldownUntil, h.LatencyMs is { } ms ? Math.Round(ms, 2) : null,
                    Math.Round(h.ErrorRate, 4), h.Calls, h.Errors);
            })),
        })).WithName("ListDeployments").WithSummary("Each deployment's health: status, error rate, latency, consecutive failures and cooldown.");
        return api;
    }
}
