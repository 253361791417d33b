using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Routing;

public static class RoutingEndpoints
{
    /// <param name="Status"><c>healthy</c>, <c>failing</c> (failures below the cooldown threshold) or <c>cooling_down</c>.</param>
    public sealed record DeploymentState(string Model, string Strategy, string Provider, string VendorModel, int Priority, string Status,
        int ConsecutiveFailures, DateTimeOffset? CooldownUntil, double? LatencyMs);

    public static RouteGroupBuilder MapRouting(this RouteGroupBuilder api)
    {
        api.MapGet("/deployments", (CatalogState catalog, DeploymentHealth health) => TypedResults.Ok(new
        {
            deployments = catalog.Current.Models.Values.OrderBy(m => m.Name, StringComparer.Ordinal).SelectMany(m => m.Deployments.Select((d, i) =>
            {
                var (failures, until, latency) = health.StateOf(d);
                var status = until is not null ? "cooling_down" : failures > 0 ? "failing" : "healthy";
                return new DeploymentState(m.Name, CatalogValidator.StrategyName(m.Strategy), d.Provider.Name, d.VendorModel, i + 1, status, failures, until,
                    latency is { } ms ? Math.Round(ms, 2) : null);
            })),
        })).WithName("ListDeployments").WithSummary("Each deployment's health: consecutive failures and cooldown.");
        return api;
    }
}
