using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Gateway.Catalog;

namespace Mulan.Governance.Currencies;

/// <summary>One unit of <paramref name="From"/> is worth <paramref name="Rate"/> units of <paramref name="To"/> from
/// <paramref name="EffectiveFrom"/> on (null: always, until a later rate of the pair).</summary>
/// <param name="Source"><c>config</c> (the configuration file or <c>Governance:ExchangeRates</c>) or <c>api</c>.</param>
public sealed record ExchangeRate(Currency From, Currency To, decimal Rate, DateTimeOffset? EffectiveFrom, string Source);

/// <summary>An immutable set of rates; a pair's rate at a time is its latest version in effect then, in either direction.</summary>
public sealed class ExchangeRateBook(IReadOnlyList<ExchangeRate> rates)
{
    public IReadOnlyList<ExchangeRate> Rates { get; } = rates;

    /// <summary>How many <paramref name="to"/> one <paramref name="from"/> is worth at <paramref name="at"/>; null when no rate is in effect.</summary>
    public decimal? RateAt(Currency from, Currency to, DateTimeOffset at)
    {
        if (from == to)
        {
            return 1m;
        }
        ExchangeRate? best = null;
        foreach (var r in Rates)
        {
            var start = r.EffectiveFrom ?? DateTimeOffset.MinValue;
            if (((r.From == from && r.To == to) || (r.From == to && r.To == from)) && start <= at
                && (best is null || start >= (best.EffectiveFrom ?? DateTimeOffset.MinValue)))
            {
                best = r;
            }
        }
        return best is null ? null : best.From == from ? best.Rate : 1m / best.Rate;
    }

    /// <summary><paramref name="amount"/> in <paramref name="from"/> as <paramref name="to"/> (three-letter codes) at
    /// <paramref name="at"/>; null when either is not a currency the gateway prices in, or no rate is in effect.</summary>
    public decimal? Convert(decimal amount, string from, string to, DateTimeOffset at)
    {
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            return amount;
        }
        return Enum.TryParse<Currency>(from, out var f) && Enum.TryParse<Currency>(to, out var t) && RateAt(f, t, at) is { } rate ? amount * rate : null;
    }
}

/// <summary>
/// The exchange rates budgets are charged with when a model is priced in another currency: from the configuration
/// file (<c>exchangeRates</c>), the older <c>Governance:ExchangeRates</c> setting, and <c>POST /api/exchange-rates</c>
/// (kept in the settings table). Rates are versioned like prices: a new rate of a pair takes effect at its
/// <c>effectiveFrom</c> and earlier requests keep the rate of their time. Readers never lock.
/// </summary>
public sealed class ExchangeRates(IAccessStore store, IOptions<GovernanceOptions> options, TimeProvider time)
{
    public const decimal MaxRate = 1_000_000m;
    private const string SettingKey = "governance.exchange_rates";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<ExchangeRate> _configured = [];
    private ExchangeRateBook _book = new([]);

    public ExchangeRateBook Current => Volatile.Read(ref _book);

    /// <summary>Loads the configured and stored rates; throws <see cref="CatalogValidationException"/> naming each bad one.</summary>
    public async Task InitializeAsync(CatalogFile file, CancellationToken ct)
    {
        var errors = new List<string>();
        List<ExchangeRate> configured = [];
        foreach (var (pair, rate) in options.Value.ExchangeRates)
        {
            // Validated at start by GovernanceOptionsValidator: FROM_TO of two currencies, rate > 0.
            var parts = pair.Split('_');
            configured.Add(new ExchangeRate(Enum.Parse<Currency>(parts[0]), Enum.Parse<Currency>(parts[1]), rate, null, "config"));
        }
        configured.AddRange(Read(file.ExchangeRates, "exchangeRates", "config", configured, errors));
        if (errors.Count > 0)
        {
            throw new CatalogValidationException(errors);
        }
        _configured = configured;
        Volatile.Write(ref _book, new ExchangeRateBook([.. configured, .. await LoadStoredAsync(ct)]));
    }

    /// <summary>Adds a rate (audited by the caller); the errors name the field.</summary>
    public async Task<(ExchangeRate? Added, IReadOnlyList<string> Errors)> AddAsync(ExchangeRateDefinition definition, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var errors = new List<string>();
            var current = Current.Rates;
            var added = Read([definition], "", "api", current, errors);
            if (errors.Count > 0)
            {
                return (null, [.. errors.Select(e => e.TrimStart('[', '0', ']', '.'))]);
            }
            var stored = current.Where(r => r.Source == "api").Concat(added).Select(r => new ExchangeRateDefinition
            {
                From = r.From.ToString(), To = r.To.ToString(), Rate = r.Rate, EffectiveFrom = r.EffectiveFrom,
            }).ToList();
            await store.SetSettingAsync(SettingKey, JsonSerializer.Serialize(stored, Json), ct);
            Volatile.Write(ref _book, new ExchangeRateBook([.. current, .. added]));
            return (added[0], []);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Why a budget in <paramref name="budgetCurrency"/> could not be charged for these models now, or null when it can.</summary>
    public string? MissingRate(string budgetCurrency, IEnumerable<ModelRoute> routes)
    {
        if (!Enum.TryParse<Currency>(budgetCurrency, out var currency))
        {
            return null; // the currency itself is refused elsewhere
        }
        var now = time.GetUtcNow();
        foreach (var route in routes)
        {
            foreach (var d in route.Deployments)
            {
                if (Current.RateAt(d.Price.Currency, currency, now) is null)
                {
                    return Missing(d.Price.Currency, currency, $"model '{route.Name}' is priced in {d.Price.Currency}");
                }
            }
        }
        return null;
    }

    public static string Missing(Currency priced, Currency budget, string why) =>
        $"no exchange rate between {priced} and {budget} is in effect ({why}); add one under exchangeRates in the configuration file or with POST /api/exchange-rates";

    private async Task<IReadOnlyList<ExchangeRate>> LoadStoredAsync(CancellationToken ct)
    {
        var json = await store.GetSettingAsync(SettingKey, ct);
        if (json is null)
        {
            return [];
        }
        var errors = new List<string>();
        // Stored rates were checked when they were added; one that no longer reads is skipped rather than stop the server.
        return Read(JsonSerializer.Deserialize<List<ExchangeRateDefinition>>(json, Json), "stored", "api", _configured, errors);
    }

    private static List<ExchangeRate> Read(IReadOnlyList<ExchangeRateDefinition>? definitions, string path, string source, IReadOnlyList<ExchangeRate> existing,
        List<string> errors)
    {
        List<ExchangeRate> rates = [];
        for (var i = 0; i < (definitions?.Count ?? 0); i++)
        {
            var d = definitions![i];
            var at = $"{path}[{i}]";
            var ok = true;
            if (!TryCurrency(d?.From, out var from))
            {
                errors.Add($"{at}.from: must be CNY or USD");
                ok = false;
            }
            if (!TryCurrency(d?.To, out var to))
            {
                errors.Add($"{at}.to: must be CNY or USD");
                ok = false;
            }
            else if (ok && from == to)
            {
                errors.Add($"{at}.to: must differ from 'from'");
                ok = false;
            }
            if (d?.Rate is not { } rate || rate <= 0 || rate > MaxRate)
            {
                errors.Add($"{at}.rate: required, more than 0 and at most {MaxRate.ToString(CultureInfo.InvariantCulture)} (one '{d?.From}' in '{d?.To}')");
                ok = false;
            }
            if (!ok)
            {
                continue;
            }
            var candidate = new ExchangeRate(from, to, d!.Rate!.Value, d.EffectiveFrom, source);
            if (existing.Concat(rates).Any(r => SamePair(r, candidate) && r.EffectiveFrom == candidate.EffectiveFrom))
            {
                errors.Add($"{at}.effectiveFrom: a rate between {from} and {to} already takes effect at {(candidate.EffectiveFrom?.ToString("O", CultureInfo.InvariantCulture) ?? "all times")}; add a new version with a later effectiveFrom");
                continue;
            }
            rates.Add(candidate);
        }
        return rates;
    }

    private static bool SamePair(ExchangeRate a, ExchangeRate b) => (a.From == b.From && a.To == b.To) || (a.From == b.To && a.To == b.From);

    private static bool TryCurrency(string? text, out Currency currency) =>
        Enum.TryParse(text?.ToUpperInvariant(), out currency) && Enum.IsDefined(currency) && !text!.Any(char.IsDigit);
}
