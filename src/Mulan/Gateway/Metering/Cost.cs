using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Metering;

/// <summary>Money in <see cref="decimal"/>; the ledger stores it in billionths of the currency unit.</summary>
public static class Cost
{
    private const decimal PerMillion = 1_000_000m;
    public const decimal NanosPerUnit = 1_000_000_000m;

    /// <summary>Cost of one request. Cached input tokens are part of the input count and billed at the cached price when
    /// one is set; reasoning tokens are part of the output count and billed at the reasoning price when one is set.</summary>
    public static decimal Of(Price price, long inputTokens, long cachedTokens, long outputTokens, long reasoningTokens = 0)
    {
        var cached = Math.Clamp(cachedTokens, 0, inputTokens);
        var reasoning = Math.Clamp(reasoningTokens, 0, outputTokens);
        var cachedPrice = price.CachedInput ?? price.Input;
        var reasoningPrice = price.Reasoning ?? price.Output;
        return Normalize((((inputTokens - cached) * price.Input) + (cached * cachedPrice) + ((outputTokens - reasoning) * price.Output)
            + (reasoning * reasoningPrice)) / PerMillion);
    }

    /// <summary>Cost of a speech or OCR request: <paramref name="units"/> at the price of its unit (per second, per one
    /// million characters, per page).</summary>
    public static decimal OfUnits(Price price, MeteredUnit unit, decimal units) => Normalize(unit switch
    {
        MeteredUnit.Seconds => units * (price.PerSecond ?? 0),
        MeteredUnit.Characters => units * (price.PerMillionCharacters ?? 0) / PerMillion,
        _ => units * (price.PerPage ?? 0),
    });

    /// <summary>Drops trailing zeros (0.00000300 → 0.000003) so amounts print the same everywhere.</summary>
    public static decimal Normalize(decimal amount) => amount / 1.000000000000000000000000000000000m;

    /// <summary>Rounds half-even to the ledger's resolution of 1e-9.</summary>
    public static long ToNanos(decimal amount) => (long)Math.Round(amount * NanosPerUnit, MidpointRounding.ToEven);

    public static decimal FromNanos(long nanos) => Normalize(nanos / NanosPerUnit);
}
