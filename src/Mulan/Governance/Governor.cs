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
public sealed class Governor(RateLimiter limits, BudgetGuard budgets, TokenCounter tokens, IOptions<GovernanceOptions> options) : IUsageObserver
{
    private readonly GovernanceOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Admission> _admitted = new(StringComparer.Ordinal);

    private sealed record Admission(RateLimiter.Check? Tokens, BudgetGuard.Reservation? Budget);

    /// <summary>Null when admitted (the <c>x-ratelimit-*</c> headers are set); otherwise the refusal, and nothing is held.</summary>
    public async Task<OpenAIError?> AdmitAsync(HttpContext ctx, Exchange x, IReadOnlyList<Deployment> deployments)
    {
        var key = x.Key;
        if (key.Rpm is null && key.Tpm is null && key.Budget is null)
        {
            return null; // the usual case: nothing to count
        }
        var body = x.Request!.Body;
        var chat = x.Endpoint == GatewayEndpoint.ChatCompletions;
        long prompt = chat ? tokens.CountChatInput(body) : tokens.CountEmbeddingInput(body);
        long maxOutput = chat ? OpenAIRequest.MaxTokens(body) ?? _options.DefaultMaxOutputTokens : 0;

        RateLimiter.Check? requests = null, tokenCheck = null;
        if (key.Rpm is { } rpm)
        {
            requests = await limits.TryAcquireAsync($"key:{key.Id}:requests", "requests", rpm, 1);
            RateLimiter.WriteHeaders(ctx.Response.Headers, requests);
            if (!requests.Admitted)
            {
                return RateLimited(requests, "requests per minute (RPM)");
            }
        }
        if (key.Tpm is { } tpm)
        {
            tokenCheck = await limits.TryAcquireAsync($"key:{key.Id}:tokens", "tokens", tpm, prompt + maxOutput);
            RateLimiter.WriteHeaders(ctx.Response.Headers, tokenCheck);
            if (!tokenCheck.Admitted)
            {
                await Refund(requests, 1);
                return RateLimited(tokenCheck, "tokens per minute (TPM)");
            }
        }
        BudgetGuard.Reservation? reservation = null;
        if (key.Budget is { } budget)
        {
            var currency = Enum.Parse<Currency>(budget.Currency);
            if (deployments.FirstOrDefault(d => _options.Rate(d.Price.Currency, currency) is null) is { } foreign)
            {
                await Refund(requests, 1);
                await Refund(tokenCheck, tokenCheck?.Amount ?? 0);
                return new OpenAIError(400,
                    $"This key's budget is in {currency} and model '{x.Model}' is priced in {foreign.Price.Currency}; set Governance:ExchangeRates to count it.",
                    "invalid_request_error", null, "budget_currency_mismatch");
            }
            // The most the request can cost: its prompt and its output cap at the dearest deployment it may fall back to.
            var estimate = deployments.Max(d => Convert(Cost.Of(d.PriceAt(x.StartedAt), prompt, 0, maxOutput), d.Price.Currency, currency));
            var (held, standing) = await budgets.TryReserveAsync(key, budget, estimate, (amount, from) => Convert(amount, from, currency), CancellationToken.None);
            if (held is null)
            {
                await Refund(requests, 1);
                await Refund(tokenCheck, tokenCheck?.Amount ?? 0);
                return new OpenAIError(429,
                    $"This key's {budget.Period.ToString().ToLowerInvariant()} budget of {Money(budget.Amount)} {currency} is used up: {Money(standing.Spent)} spent, " +
                    $"{Money(standing.Reserved)} held by requests in flight, and this request may cost up to {Money(estimate)}.",
                    "insufficient_quota", null, "budget_exceeded");
            }
            reservation = held;
        }
        _admitted[x.RequestId] = new Admission(tokenCheck, reservation);
        return null;
    }

    public void Observe(UsageRecord record)
    {
        if (!_admitted.TryRemove(record.RequestId, out var admission))
        {
            return;
        }
        if (admission.Tokens is { } counted)
        {
            _ = Refund(counted, counted.Amount - (record.InputTokens + record.OutputTokens)).AsTask();
        }
        if (admission.Budget is { } reservation)
        {
            var currency = Enum.Parse<Currency>(reservation.Budget.Currency);
            budgets.Settle(reservation, record.Currency is { } priced ? Convert(record.Cost, priced, currency) : 0m);
        }
    }

    private ValueTask Refund(RateLimiter.Check? check, long amount) => check is null ? ValueTask.CompletedTask : limits.RefundAsync(check, amount);

    private decimal Convert(decimal amount, Currency from, Currency to) =>
        amount == 0 ? 0 : amount * (_options.Rate(from, to) ?? throw new InvalidOperationException($"no exchange rate {from}:{to}"));

    private static OpenAIError RateLimited(RateLimiter.Check check, string what) => new(429,
        $"Rate limit reached for this key on {what}: limit {check.Limit}, used {check.Used}, requested {check.Amount}. " +
        $"Please try again in {Math.Ceiling(check.Reset.TotalSeconds)}s.", check.Kind, null, "rate_limit_exceeded")
    {
        RetryAfterSeconds = (int)Math.Ceiling(check.Reset.TotalSeconds),
    };

    private static string Money(decimal amount) => Math.Round(amount, 6).ToString("0.######", CultureInfo.InvariantCulture);
}
