using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Gateway;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Wire;
using Mulan.Governance.Budgets;
using Mulan.Governance.RateLimits;

namespace Mulan.Governance;

/// <summary>
/// Admits a <c>/v1</c> request against its key's limits before any upstream call: requests per minute, tokens per
/// minute (the prompt plus the most it may generate) and the budget (a reservation of the most it may cost). What was
/// held is settled when the request's usage record is written: tokens not used go back to the minute, the budget keeps
/// the actual cost.
/// </summary>
public sealed class Governor(RateLimiter limits, BudgetGuard budgets, TokenCounter tokens, Currencies.ExchangeRates rates, IOptions<GovernanceOptions> options)
    : IUsageObserver
{
    private readonly GovernanceOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Admission> _admitted = new(StringComparer.Ordinal);

    private sealed record Admission(List<RateLimiter.Check> Tokens, List<BudgetGuard.Reservation> Budgets);

    /// <summary>One set of limits to check: the key's own, or its workspace's (shared by all its keys).</summary>
    private sealed record Limits(string Name, string Counter, BudgetGuard.Scope Scope, int? Rpm, int? Tpm, KeyBudget? Budget);

    /// <summary>Null when admitted (the <c>x-ratelimit-*</c> headers are set); otherwise the refusal, and nothing is held.</summary>
    /// <param name="workspace">the key's workspace as last loaded (its shared limits), if any.</param>
    public async Task<OpenAIError?> AdmitAsync(HttpContext ctx, Exchange x, Workspace? workspace, IReadOnlyList<Deployment> deployments)
    {
        var sets = LimitsOf(x, workspace);
        if (sets.Count == 0)
        {
            return null; // the usual case: nothing to count
        }
        var body = x.Request!.Body;
        var chat = x.Endpoint == GatewayEndpoint.ChatCompletions;
        long prompt = chat ? tokens.CountChatInput(body) : tokens.CountEmbeddingInput(body);
        // n choices each generate up to the cap (n is checked to be 1 to 128 before admission).
        long choices = chat && OpenAIRequest.Number(body["n"]) is { } n ? (long)n : 1;
        long maxOutput = chat ? (OpenAIRequest.MaxTokens(body) ?? _options.DefaultMaxOutputTokens) * choices : 0;
        return await AdmitAsync(ctx, x, sets, deployments, prompt + maxOutput, d => Cost.Of(d.PriceAt(x.StartedAt), prompt, 0, maxOutput));
    }

    /// <summary>A speech or OCR request, whose size is known before it is sent (<see cref="Exchange.Metered"/>): requests per
    /// minute count it, tokens per minute do not (it has none), the budget holds its exact cost at the dearest deployment.</summary>
    public async Task<OpenAIError?> AdmitMeteredAsync(HttpContext ctx, Exchange x, Workspace? workspace, IReadOnlyList<Deployment> deployments)
    {
        var sets = LimitsOf(x, workspace);
        if (sets.Count == 0)
        {
            return null;
        }
        var (unit, amount) = x.Metered ?? throw new InvalidOperationException("a metered request names its units before admission");
        return await AdmitAsync(ctx, x, sets, deployments, 0, d => Cost.OfUnits(d.PriceAt(x.StartedAt), unit, amount));
    }

    private async Task<OpenAIError?> AdmitAsync(HttpContext ctx, Exchange x, List<Limits> sets, IReadOnlyList<Deployment> deployments, long tokenCount,
        Func<Deployment, decimal> mostCost)
    {
        var holds = new Holds(limits, budgets);
        try
        {
            return await CheckAsync(ctx, x, sets, deployments, tokenCount, mostCost, holds);
        }
        catch (RateLimitStoreUnavailableException)
        {
            return await holds.ReleaseAsync(new OpenAIError(503, "The rate-limit store is unavailable; limited requests are refused until it is back.",
                "service_unavailable", null, "rate_limit_unavailable"));
        }
        catch (BudgetStoreUnavailableException)
        {
            // Fail closed: a budget that cannot be checked is not spent.
            return await holds.ReleaseAsync(new OpenAIError(503, "The budget store is unavailable; requests under a budget are refused until it is back.",
                "service_unavailable", null, "budget_unavailable"));
        }
    }

    private static List<Limits> LimitsOf(Exchange x, Workspace? workspace)
    {
        var key = x.Key;
        List<Limits> sets = [];
        if (key.Rpm is not null || key.Tpm is not null || key.Budget is not null)
        {
            sets.Add(new Limits("key", $"key:{key.Id}", BudgetGuard.Scope.Of(key), key.Rpm, key.Tpm, key.Budget));
        }
        if (workspace is not null && (workspace.Rpm is not null || workspace.Tpm is not null || workspace.Budget is not null))
        {
            sets.Add(new Limits("workspace", $"ws:{workspace.Id}", BudgetGuard.Scope.Of(workspace), workspace.Rpm, workspace.Tpm, workspace.Budget));
        }
        if (x.App is { Budget: { } appBudget } app)
        {
            sets.Add(new Limits("app", $"app:{app.AppId}", BudgetGuard.Scope.OfApp(app.AppId, app.WorkspaceId), null, null, appBudget));
        }
        return sets;
    }

    /// <summary>What one request holds while it is being admitted; all of it is given back if a later check refuses it.</summary>
    private sealed class Holds(RateLimiter limits, BudgetGuard budgets)
    {
        public List<RateLimiter.Check> Requests { get; } = [];
        public List<RateLimiter.Check> Tokens { get; } = [];
        public List<BudgetGuard.Reservation> Budgets { get; } = [];

        public async Task<OpenAIError> ReleaseAsync(OpenAIError refusal)
        {
            foreach (var check in Requests)
            {
                await limits.RefundAsync(check, 1);
            }
            foreach (var check in Tokens)
            {
                await limits.RefundAsync(check, check.Amount);
            }
            foreach (var held in Budgets)
            {
                await budgets.SettleAsync(held, 0m);
            }
            return refusal;
        }
    }

    private async Task<OpenAIError?> CheckAsync(HttpContext ctx, Exchange x, List<Limits> sets, IReadOnlyList<Deployment> deployments, long tokenCount,
        Func<Deployment, decimal> mostCost, Holds holds)
    {
        foreach (var set in sets)
        {
            if (set.Rpm is { } rpm)
            {
                var check = await limits.TryAcquireAsync($"{set.Counter}:requests", "requests", rpm, 1);
                RateLimiter.WriteHeaders(ctx.Response.Headers, check);
                if (!check.Admitted)
                {
                    return await holds.ReleaseAsync(RateLimited(check, set.Name, "requests per minute (RPM)"));
                }
                holds.Requests.Add(check);
            }
            if (set.Tpm is { } tpm && (tokenCount > 0 || x.Metered is null))
            {
                var check = await limits.TryAcquireAsync($"{set.Counter}:tokens", "tokens", tpm, tokenCount);
                RateLimiter.WriteHeaders(ctx.Response.Headers, check);
                if (!check.Admitted)
                {
                    return await holds.ReleaseAsync(RateLimited(check, set.Name, "tokens per minute (TPM)"));
                }
                holds.Tokens.Add(check);
            }
        }
        foreach (var set in sets)
        {
            if (set.Budget is not { } budget)
            {
                continue;
            }
            var currency = Enum.Parse<Currency>(budget.Currency);
            // Refused when the budget or the model was set up (see ExchangeRates.MissingRate); checked again here because a
            // configuration file edited between restarts can still take a rate away.
            var book = rates.Current;
            if (deployments.FirstOrDefault(d => book.RateAt(d.Price.Currency, currency, x.StartedAt) is null) is { } foreign)
            {
                return await holds.ReleaseAsync(new OpenAIError(400,
                    $"This {set.Name}'s budget is in {currency} and model '{x.Model}' is priced in {foreign.Price.Currency}: " +
                    Currencies.ExchangeRates.Missing(foreign.Price.Currency, currency, "so the budget cannot be charged"),
                    "invalid_request_error", null, "budget_currency_mismatch"));
            }
            // The most the request can cost: its prompt and its output cap at the dearest deployment it may fall back to,
            // in the budget's currency at the rate in effect when the request arrived.
            var estimate = deployments.Max(d => Convert(book, mostCost(d), d.Price.Currency, currency, x.StartedAt));
            var (held, standing) = await budgets.TryReserveAsync(set.Scope, budget, estimate,
                (amount, from) => Convert(book, amount, from, currency, x.StartedAt), CancellationToken.None);
            if (held is null)
            {
                return await holds.ReleaseAsync(new OpenAIError(429,
                    $"This {set.Name}'s {budget.Period.ToString().ToLowerInvariant()} budget of {Money(budget.Amount)} {currency} is used up: {Money(standing.Spent)} spent, " +
                    $"{Money(standing.Reserved)} held by requests in flight, and this request may cost up to {Money(estimate)}.",
                    "insufficient_quota", null, "budget_exceeded"));
            }
            holds.Budgets.Add(held);
        }
        _admitted[x.RequestId] = new Admission(holds.Tokens, holds.Budgets);
        return null;
    }

    public void Observe(UsageRecord record)
    {
        if (!_admitted.TryRemove(record.RequestId, out var admission))
        {
            return;
        }
        foreach (var counted in admission.Tokens)
        {
            _ = limits.RefundAsync(counted, counted.Amount - (record.InputTokens + record.OutputTokens)).AsTask();
        }
        foreach (var reservation in admission.Budgets)
        {
            var currency = Enum.Parse<Currency>(reservation.Budget.Currency);
            // The record keeps its cost in the price's currency; the budget is charged in its own, at the request's time.
            // Off the writer's path; SettleAsync does not throw (a settlement the shared store missed is made good from the ledger).
            _ = budgets.SettleAsync(reservation, record.Currency is { } priced ? Convert(rates.Current, record.Cost, priced, currency, record.At) : 0m);
        }
    }

    private static decimal Convert(Currencies.ExchangeRateBook book, decimal amount, Currency from, Currency to, DateTimeOffset at) =>
        amount == 0 ? 0 : amount * (book.RateAt(from, to, at) ?? throw new InvalidOperationException($"no exchange rate {from}:{to} at {at:O}"));

    private static OpenAIError RateLimited(RateLimiter.Check check, string scope, string what) => new(429,
        $"Rate limit reached for this {scope} on {what}: limit {check.Limit}, used {check.Used}, requested {check.Amount}. " +
        $"Please try again in {Math.Ceiling(check.Reset.TotalSeconds)}s.", check.Kind, null, "rate_limit_exceeded")
    {
        RetryAfterSeconds = (int)Math.Ceiling(check.Reset.TotalSeconds),
    };

    private static string Money(decimal amount) => Math.Round(amount, 6).ToString("0.######", CultureInfo.InvariantCulture);
}
