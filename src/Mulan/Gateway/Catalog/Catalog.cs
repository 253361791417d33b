using System.Collections.Frozen;

namespace Mulan.Gateway.Catalog;

public enum Currency { CNY, USD }

public enum RoutingStrategy { Priority, Weighted, LowestLatency, LowestCost }

public enum CatalogSource { Config, Api }

/// <summary>Prices per one million tokens, in <see cref="Currency"/>; speech and OCR routes price their own units.</summary>
/// <param name="Reasoning">reasoning tokens (part of the output count), when a vendor prices them apart from output.</param>
/// <param name="EffectiveFrom">when this price starts to apply; null for a deployment's first price.</param>
public sealed record Price(Currency Currency, decimal Input, decimal Output, decimal? CachedInput, decimal? Reasoning = null, DateTimeOffset? EffectiveFrom = null)
{
    /// <summary>Per second of audio (transcription routes).</summary>
    public decimal? PerSecond { get; init; }

    /// <summary>Per one million characters of input text (speech routes).</summary>
    public decimal? PerMillionCharacters { get; init; }

    /// <summary>Per page of an image or PDF (OCR routes).</summary>
    public decimal? PerPage { get; init; }
}

/// <summary>A provider ready to call. <see cref="ApiKey"/> is the resolved secret: it lives only in memory.</summary>
public sealed record Provider(
    string Name, ProviderKind Kind, Uri BaseUrl, string? ApiKey,
    IReadOnlyDictionary<string, string> Headers, CatalogSource Source)
{
    /// <summary>Runs on the customer's own machines: data sent to it does not leave.</summary>
    public bool IsLocal { get; init; }
}

/// <param name="Weight">share of traffic under the weighted strategy.</param>
/// <param name="Price">the first price; <see cref="Changes"/> lists later ones.</param>
public sealed record Deployment(Provider Provider, string VendorModel, Price Price, int Weight = 1)
{
    public DeploymentSettings Settings { get; init; } = DeploymentSettings.Default;

    /// <summary>Later prices, in order of <see cref="Price.EffectiveFrom"/>.</summary>
    public IReadOnlyList<Price> Changes { get; init; } = [];

    /// <summary>The price in force at <paramref name="at"/>: the last change that took effect by then, else the first price.</summary>
    public Price PriceAt(DateTimeOffset at)
    {
        for (var i = Changes.Count - 1; i >= 0; i--)
        {
            if (Changes[i].EffectiveFrom <= at)
            {
                return Changes[i];
            }
        }
        return Price;
    }
}

/// <summary>A deployment's own limits; null means "the gateway's default" (see <c>GatewayOptions</c>).</summary>
public sealed record DeploymentSettings(bool Enabled = true, int? MaxRetries = null, TimeSpan? Connect = null, TimeSpan? FirstByte = null, TimeSpan? Total = null)
{
    public static DeploymentSettings Default { get; } = new();
}

public sealed record ModelRoute(string Name, RoutingStrategy Strategy, IReadOnlyList<Deployment> Deployments,
    CatalogSource Source, DateTimeOffset CreatedAt)
{
    /// <summary>What the route serves: chat and embeddings (the default), transcription, speech or OCR.</summary>
    public ModelKind Kind { get; init; } = ModelKind.Chat;

    /// <summary>Data residency: only local providers may serve this model.</summary>
    public bool LocalOnly { get; init; }

    /// <summary>How long identical requests are answered from the exact response cache; null when the cache is off.</summary>
    public TimeSpan? CacheTtl { get; init; }
}

/// <summary>An immutable view of all providers and model routes; replaced whole on every change.</summary>
public sealed class CatalogSnapshot(IEnumerable<Provider> providers, IEnumerable<ModelRoute> models)
{
    public static CatalogSnapshot Empty { get; } = new([], []);

    public FrozenDictionary<string, Provider> Providers { get; } = providers.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);
    public FrozenDictionary<string, ModelRoute> Models { get; } = models.ToFrozenDictionary(m => m.Name, StringComparer.Ordinal);
}

/// <summary>Holds the current snapshot; readers never lock (one volatile read), writers swap atomically.</summary>
public sealed class CatalogState
{
    private CatalogSnapshot _current = CatalogSnapshot.Empty;

    public CatalogSnapshot Current => Volatile.Read(ref _current);

    public void Swap(CatalogSnapshot next) => Volatile.Write(ref _current, next);
}
