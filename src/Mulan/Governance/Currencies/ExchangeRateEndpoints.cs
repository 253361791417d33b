using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Audit;
using Mulan.Gateway.Catalog;

namespace Mulan.Governance.Currencies;

public static class ExchangeRateEndpoints
{
    public static RouteGroupBuilder MapExchangeRates(this RouteGroupBuilder api)
    {
        api.MapGet("/exchange-rates", (ExchangeRates rates, TimeProvider time) => TypedResults.Ok(new RatesView(
                [.. rates.Current.Rates.Select(RateView.Of)], time.GetUtcNow())))
            .WithName("ListExchangeRates").WithSummary("Every version of every exchange rate budgets are charged with.");
        api.MapPost("/exchange-rates", CreateAsync).WithName("CreateExchangeRate")
            .WithSummary("Add an exchange rate (or a new version of one, from its effectiveFrom on).");
        return api;
    }

    public sealed record RateView(string From, string To, decimal Rate, DateTimeOffset? EffectiveFrom, string Source)
    {
        public static RateView Of(ExchangeRate r) => new(r.From.ToString(), r.To.ToString(), r.Rate, r.EffectiveFrom, r.Source);
    }

    public sealed record RatesView(IReadOnlyList<RateView> Rates, DateTimeOffset Now);

    private static async Task<Results<Created<RateView>, ValidationProblem>> CreateAsync(ExchangeRateDefinition? body, ExchangeRates rates, AuditLog audit,
        CancellationToken ct)
    {
        var (added, errors) = await rates.AddAsync(body ?? new ExchangeRateDefinition(), ct);
        if (added is null)
        {
            return TypedResults.ValidationProblem(errors.Select(e => e.Split(": ", 2)).GroupBy(p => p[0], p => p.Length > 1 ? p[1] : p[0])
                .ToDictionary(g => g.Key, g => g.ToArray()));
        }
        // The /api group admits only the administrator key.
        await audit.RecordAsync(new AuditEntry(AuditActor.Admin, AuditActions.ExchangeRateCreated, "exchange_rate", $"{added.From}_{added.To}", null,
            new JsonObject { ["from"] = added.From.ToString(), ["to"] = added.To.ToString(), ["rate"] = added.Rate, ["effectiveFrom"] = added.EffectiveFrom }));
        return TypedResults.Created("/api/exchange-rates", RateView.Of(added));
    }
}
