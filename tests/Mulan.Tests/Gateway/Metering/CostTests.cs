using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;

namespace Mulan.Tests.Gateway.Metering;

public sealed class CostTests
{
    [Fact]
    public void Cost_is_exact_decimal_per_million_tokens()
    {
        var price = new Price(Currency.USD, 0.15m, 0.60m, null);
        Assert.Equal(0.000003m, Cost.Of(price, 8, 0, 3));
        Assert.Equal(0.75m, Cost.Of(price, 1_000_000, 0, 1_000_000));
        Assert.Equal(0m, Cost.Of(price, 0, 0, 0));
    }

    [Fact]
    public void Cached_input_is_billed_at_the_cached_price_and_never_more_than_the_input()
    {
        var price = new Price(Currency.CNY, 2m, 8m, 0.5m);
        Assert.Equal((600 * 2m + 400 * 0.5m + 100 * 8m) / 1_000_000m, Cost.Of(price, 1000, 400, 100));
        Assert.Equal((1000 * 0.5m) / 1_000_000m, Cost.Of(price, 1000, 5000, 0));
        var noCachedPrice = new Price(Currency.CNY, 2m, 8m, null);
        Assert.Equal(Cost.Of(noCachedPrice, 1000, 0, 0), Cost.Of(noCachedPrice, 1000, 999, 0));
    }

    [Fact]
    public void Ledger_resolution_is_one_billionth_with_bankers_rounding()
    {
        Assert.Equal(3000, Cost.ToNanos(0.000003m));
        Assert.Equal(2, Cost.ToNanos(0.0000000025m));
        Assert.Equal(4, Cost.ToNanos(0.0000000035m));
        Assert.Equal(0.000003m, Cost.FromNanos(3000));
        Assert.Equal("0.000003", Cost.FromNanos(3000).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
