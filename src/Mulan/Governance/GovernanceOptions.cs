using System.Globalization;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Catalog;

namespace Mulan.Governance;

/// <summary>Budgets and rate limits. Bound from the <c>Governance</c> configuration section.</summary>
public sealed class GovernanceOptions
{
    public const string Section = "Governance";

    /// <summary>Output tokens a request is assumed to produce, for its budget reservation and token-rate admission,
    /// when it sets no <c>max_tokens</c>. Default 4096.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 4096;

    /// <summary>Exchange rates for budgets kept in another currency than a deployment's price, as <c>"USD_CNY": 7.1</c>
    /// (one unit of the first is worth this many of the second; the inverse is implied). Default none.</summary>
    public Dictionary<string, decimal> ExchangeRates { get; set; } = [];

    /// <summary>Share of a budget whose spending records a <c>budget.threshold_reached</c> alert in the audit log, once a
    /// period; 0 turns it off. Default 0.8.</summary>
    public decimal BudgetAlertThreshold { get; set; } = 0.8m;

    /// <summary>A Redis server (StackExchange.Redis configuration, e.g. <c>127.0.0.1:6379</c>) for the rate-limit counters,
    /// shared by every Mulan instance that uses it. Default none: counters in this process.</summary>
    public string? Redis { get; set; }
}

internal sealed class GovernanceOptionsValidator : IValidateOptions<GovernanceOptions>
{
    public ValidateOptionsResult Validate(string? name, GovernanceOptions o)
    {
        var errors = new List<string>();
        if (o.DefaultMaxOutputTokens is < 1 or > 1_000_000)
        {
            errors.Add($"{GovernanceOptions.Section}:DefaultMaxOutputTokens: must be between 1 and 1000000 (got {o.DefaultMaxOutputTokens})");
        }
        if (!string.IsNullOrWhiteSpace(o.Redis))
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(o.Redis);
            }
            catch (ArgumentException e)
            {
                errors.Add($"{GovernanceOptions.Section}:Redis: not a Redis configuration string ({e.Message})");
            }
        }
        if (o.BudgetAlertThreshold is < 0 or > 1)
        {
            errors.Add($"{GovernanceOptions.Section}:BudgetAlertThreshold: must be between 0 and 1 (got {o.BudgetAlertThreshold.ToString(CultureInfo.InvariantCulture)})");
        }
        foreach (var (pair, rate) in o.ExchangeRates)
        {
            // '_', not ':', which configuration keys use as their section separator.
            var parts = pair.Split('_');
            if (parts.Length != 2 || !Enum.TryParse<Currency>(parts[0], out _) || !Enum.TryParse<Currency>(parts[1], out _) || parts[0] == parts[1])
            {
                errors.Add($"{GovernanceOptions.Section}:ExchangeRates:{pair}: must name two different currencies as FROM_TO, e.g. USD_CNY");
            }
            else if (rate <= 0)
            {
                errors.Add($"{GovernanceOptions.Section}:ExchangeRates:{pair}: must be more than 0 (got {rate.ToString(CultureInfo.InvariantCulture)})");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
