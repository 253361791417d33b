using System.Text.Json.Serialization;

namespace Mulan.Gateway.Catalog;

// The JSON shapes of the configuration file and of /api/providers and /api/models (the same shapes).

public sealed class ProviderDefinition
{
    public string? Name { get; set; }
    public string? Kind { get; set; }
    public string? BaseUrl { get; set; }
    /// <summary>The vendor key, or <c>env:NAME</c> to read it from the environment. Never returned.</summary>
    public string? ApiKey { get; set; }
    /// <summary>Extra headers sent upstream (e.g. <c>OpenAI-Organization</c>, Qianfan's <c>appid</c>).</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary><c>local</c> (runs on the customer's own machines) or <c>external</c> (data leaves for a vendor).
    /// Default: <c>local</c> for the local server kinds (ollama, vllm, llamacpp), <c>external</c> for the others.</summary>
    public string? Location { get; set; }
}

public sealed class PriceDefinition
{
    public string? Currency { get; set; }
    /// <summary>Per one million input tokens.</summary>
    public decimal? Input { get; set; }
    /// <summary>Per one million output tokens.</summary>
    public decimal? Output { get; set; }
    /// <summary>Per one million cached input tokens; defaults to <see cref="Input"/>.</summary>
    public decimal? CachedInput { get; set; }

    /// <summary>Per one million reasoning tokens (counted within the output); defaults to <see cref="Output"/>.</summary>
    public decimal? Reasoning { get; set; }

    /// <summary>Transcription routes: per second of audio.</summary>
    public decimal? PerSecond { get; set; }

    /// <summary>Speech routes: per one million characters of input text.</summary>
    public decimal? PerMillionCharacters { get; set; }

    /// <summary>OCR routes: per page (an image is one page).</summary>
    public decimal? PerPage { get; set; }

    /// <summary>In <c>priceChanges</c>: when the price starts to apply (required there).</summary>
    public DateTimeOffset? EffectiveFrom { get; set; }
}

/// <summary>Per-attempt time limits, in seconds (fractions allowed).</summary>
public sealed class TimeoutsDefinition
{
    /// <summary>To open the connection (TCP and TLS, or the WebSocket handshake).</summary>
    public double? ConnectSeconds { get; set; }
    /// <summary>From sending the request to the response headers (for translated streams, the first event).</summary>
    public double? FirstByteSeconds { get; set; }
    /// <summary>The whole attempt, a stream read to its end included.</summary>
    public double? TotalSeconds { get; set; }
}

public sealed class CacheDefinition
{
    /// <summary>How long an answer is served from the cache, 1 to 604800 seconds.</summary>
    public int? TtlSeconds { get; set; }
}

public sealed class DeploymentDefinition
{
    public string? Provider { get; set; }
    public string? Model { get; set; }
    public PriceDefinition? Price { get; set; }

    /// <summary>Later prices, each with its <c>effectiveFrom</c>: a price change announced ahead takes effect on time.</summary>
    public List<PriceDefinition>? PriceChanges { get; set; }

    /// <summary>Share of traffic under the <c>weighted</c> strategy, 1 to 1000. Default 1.</summary>
    public int? Weight { get; set; }

    /// <summary>False takes the deployment out of routing without deleting it. Default true.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Extra tries of this deployment before falling back; overrides the model's and <c>Gateway:RetriesPerDeployment</c>.</summary>
    public int? MaxRetries { get; set; }

    /// <summary>Overrides the model's timeouts, field by field.</summary>
    public TimeoutsDefinition? Timeouts { get; set; }
}

public sealed class ModelDefinition
{
    public string? Name { get; set; }

    /// <summary><c>chat</c> (default; chat completions and embeddings), <c>transcription</c>, <c>speech</c> or <c>ocr</c>.</summary>
    public string? Kind { get; set; }
    public string? Strategy { get; set; }
    public List<DeploymentDefinition>? Deployments { get; set; }

    /// <summary>Exact response cache for this model (off when absent).</summary>
    public CacheDefinition? Cache { get; set; }

    /// <summary>Data residency: every deployment must be on a <c>local</c> provider.</summary>
    public bool? LocalOnly { get; set; }

    /// <summary>Default extra tries for every deployment of this model.</summary>
    public int? MaxRetries { get; set; }

    /// <summary>Default timeouts for every deployment of this model.</summary>
    public TimeoutsDefinition? Timeouts { get; set; }
}

/// <summary>One unit of <see cref="From"/> is worth <see cref="Rate"/> units of <see cref="To"/>, from <see cref="EffectiveFrom"/> on.</summary>
public sealed class ExchangeRateDefinition
{
    public string? From { get; set; }
    public string? To { get; set; }
    public decimal? Rate { get; set; }

    /// <summary>When the rate starts to apply; absent = always (until a later rate of the same pair).</summary>
    public DateTimeOffset? EffectiveFrom { get; set; }
}

public sealed class CatalogFile
{
    public List<ProviderDefinition>? Providers { get; set; }
    public List<ModelDefinition>? Models { get; set; }

    /// <summary>Rates for budgets kept in another currency than a model's price, versioned like prices.</summary>
    public List<ExchangeRateDefinition>? ExchangeRates { get; set; }
}
