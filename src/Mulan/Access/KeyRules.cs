using Mulan.Gateway.Catalog;
using Mulan.Hosting.Problems;
using static Mulan.Access.AccessEndpoints;

namespace Mulan.Access;

/// <summary>
/// What the settings of keys (and the shared ones of workspaces) must satisfy. Create and update both call these, so a
/// value refused on one is refused on the other with the same words. Problems go into <c>errors</c> under the field's JSON name.
/// </summary>
public static class KeyRules
{
    public const int MaxNameLength = 100;

    /// <returns>the trimmed name, or null (then <paramref name="errors"/> says why).</returns>
    public static string? Name(string? raw, Dictionary<string, string[]> errors, string field = "name")
    {
        var name = raw?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            errors[field] = [$"required, 1 to {MaxNameLength} characters"];
            return null;
        }
        return name;
    }

    /// <returns>the allowlist, or null for "every model" (none or an empty list given).</returns>
    public static IReadOnlyList<string>? Models(IEnumerable<string?>? raw, CatalogSnapshot catalog, Dictionary<string, string[]> errors)
    {
        var models = raw?.Select(m => m?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList();
        foreach (var m in models ?? [])
        {
            // An app is named app:<slug>; it may be published after the key is made, in the key's workspace.
            if (!catalog.Models.ContainsKey(m) && !(m.StartsWith(Gateway.IAppModels.Prefix, StringComparison.Ordinal)
                && Apps.AppDefinitionReader.IsSlug(m[Gateway.IAppModels.Prefix.Length..])))
            {
                errors["models"] = [.. errors.GetValueOrDefault("models", []), $"no model '{m}'"];
            }
        }
        return models is { Count: > 0 } ? models : null;
    }

    /// <summary>A budget and rate limits as keys and workspaces take them.</summary>
    public static KeyBudget? Limits(BudgetDto? b, int? rpm, int? tpm, Dictionary<string, string[]> errors)
    {
        KeyBudget? budget = null;
        if (b is not null)
        {
            if (b.Amount is null)
            {
                errors["budget.amount"] = ["required, more than 0"];
            }
            errors.Positive("budget.amount", b.Amount, MaxBudgetAmount);
            if (b.Currency?.ToUpperInvariant() is not ("CNY" or "USD"))
            {
                errors["budget.currency"] = ["must be CNY or USD"];
            }
            if (!Enum.TryParse<BudgetPeriod>(b.Period, ignoreCase: true, out var period) || !Enum.IsDefined(period) || b.Period!.Any(char.IsDigit))
            {
                errors["budget.period"] = ["must be day, month or total"];
            }
            budget = new KeyBudget(b.Amount ?? 0, b.Currency?.ToUpperInvariant() ?? "", period);
        }
        errors.Range("rpm", rpm, 1, MaxRpm);
        errors.Range("tpm", tpm, 1, MaxTpm);
        return budget;
    }

    public static void Expiry(DateTimeOffset? expiresAt, TimeProvider time, Dictionary<string, string[]> errors)
    {
        errors.Future("expiresAt", expiresAt, time.GetUtcNow(), MaxKeyLifetime);
    }
}
