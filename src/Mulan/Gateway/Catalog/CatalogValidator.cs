namespace Mulan.Gateway.Catalog;

/// <summary>A setting that is wrong, named by its path (e.g. <c>providers[1].baseUrl</c>).</summary>
public sealed class CatalogValidationException(IReadOnlyList<string> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Turns definitions (file or API) into runtime objects, collecting every error with its path.</summary>
public static class CatalogValidator
{
    public const int MaxNameLength = 128;

    public static Provider ToProvider(ProviderDefinition d, string path, CatalogSource source, Func<string, string?> env, List<string> errors)
    {
        var name = RequireName(d.Name, $"{path}.name", errors);
        ProviderKind? kind = null;
        if (string.IsNullOrWhiteSpace(d.Kind))
        {
            errors.Add($"{path}.kind: required; one of {string.Join(", ", ProviderKind.All.Keys.Order())}");
        }
        else if (!ProviderKind.All.TryGetValue(d.Kind, out kind))
        {
            errors.Add($"{path}.kind: unknown kind '{d.Kind}'; expected one of {string.Join(", ", ProviderKind.All.Keys.Order())}");
        }
        var baseUrl = d.BaseUrl ?? kind?.DefaultBaseUrl;
        Uri? uri = null;
        if (kind is not null && baseUrl is null)
        {
            errors.Add($"{path}.baseUrl: required for kind '{kind.Name}'");
        }
        else if (baseUrl is not null && (!Uri.TryCreate(baseUrl.TrimEnd('/'), UriKind.Absolute, out uri) ||
                 (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || !string.IsNullOrEmpty(uri.UserInfo)))
        {
            errors.Add($"{path}.baseUrl: must be an absolute http or https URL without credentials");
            uri = null;
        }
        string? apiKey = d.ApiKey;
        if (apiKey is not null && apiKey.StartsWith("env:", StringComparison.Ordinal))
        {
            var variable = apiKey[4..];
            apiKey = env(variable);
            if (string.IsNullOrEmpty(apiKey))
            {
                errors.Add($"{path}.apiKey: environment variable '{variable}' is not set");
            }
        }
        foreach (var (header, value) in d.Headers ?? [])
        {
            if (string.IsNullOrWhiteSpace(header) || header.Any(c => c <= ' ' || c == ':' || c > '~') || value.Any(c => c is '\r' or '\n'))
            {
                errors.Add($"{path}.headers.{header}: not a valid HTTP header");
            }
            else if (header.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || header.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{path}.headers.{header}: set by Mulan; use apiKey for credentials");
            }
        }
        var isLocal = kind?.IsLocal ?? false;
        switch (d.Location)
        {
            case null:
                break;
            case "local" or "external":
                isLocal = d.Location == "local";
                break;
            default:
                errors.Add($"{path}.location: must be local or external (got '{d.Location}')");
                break;
        }
        return new Provider(name ?? "", kind ?? ProviderKind.All["openai"], uri ?? new Uri("http://invalid/"), apiKey,
            new Dictionary<string, string>(d.Headers ?? [], StringComparer.OrdinalIgnoreCase), source) { IsLocal = isLocal };
    }

    public static ModelRoute ToModel(ModelDefinition d, string path, CatalogSource source, IReadOnlyDictionary<string, Provider> providers,
        DateTimeOffset createdAt, List<string> errors)
    {
        var name = RequireName(d.Name, $"{path}.name", errors);
        var strategy = RoutingStrategy.Priority;
        if (d.Strategy is not null && !TryParseStrategy(d.Strategy, out strategy))
        {
            errors.Add($"{path}.strategy: unknown strategy '{d.Strategy}'; expected priority, weighted, lowest-latency or lowest-cost");
        }
        if (!ModelKinds.TryParse(d.Kind, out var kind))
        {
            errors.Add($"{path}.kind: unknown kind '{d.Kind}'; expected chat, transcription, speech or ocr");
            kind = ModelKind.Chat;
        }
        CheckModelSettings(d, path, errors);
        var deployments = new List<Deployment>();
        if (d.Deployments is not { Count: > 0 })
        {
            errors.Add($"{path}.deployments: at least one deployment is required");
        }
        for (var i = 0; i < (d.Deployments?.Count ?? 0); i++)
        {
            var dp = d.Deployments![i];
            var dpath = $"{path}.deployments[{i}]";
            Provider? provider = null;
            if (string.IsNullOrWhiteSpace(dp.Provider))
            {
                errors.Add($"{dpath}.provider: required");
            }
            else if (!providers.TryGetValue(dp.Provider, out provider))
            {
                errors.Add($"{dpath}.provider: no provider named '{dp.Provider}'");
            }
            if (string.IsNullOrWhiteSpace(dp.Model) || dp.Model.Length > 256)
            {
                errors.Add($"{dpath}.model: required (the vendor's model id, at most 256 characters)");
            }
            var price = ToPrice(dp.Price, $"{dpath}.price", kind, errors);
            var changes = ToChanges(dp.PriceChanges, price, $"{dpath}.priceChanges", kind, errors);
            if (provider is not null && !string.IsNullOrWhiteSpace(dp.Model) && LocalEngines.Check(provider, dp.Model, kind) is { } engineError)
            {
                errors.Add($"{dpath}.model: {engineError}");
            }
            if (dp.Weight is < 1 or > 1000)
            {
                errors.Add($"{dpath}.weight: must be between 1 and 1000 (got {dp.Weight})");
            }
            var settings = ToSettings(d, dp, dpath, errors);
            if (d.LocalOnly == true && provider is { IsLocal: false })
            {
                errors.Add($"{dpath}.provider: '{provider.Name}' is external, and the model is localOnly (its data must stay on local providers)");
            }
            if (provider is not null && price is not null && !string.IsNullOrWhiteSpace(dp.Model))
            {
                deployments.Add(new Deployment(provider, dp.Model, price with { EffectiveFrom = null }, dp.Weight ?? 1) { Settings = settings, Changes = changes });
            }
        }
        TimeSpan? cacheTtl = null;
        if (d.Cache is { } cache)
        {
            if (cache.TtlSeconds is not (>= 1 and <= 604_800))
            {
                errors.Add($"{path}.cache.ttlSeconds: required, between 1 and 604800 (got {cache.TtlSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})");
            }
            else
            {
                cacheTtl = TimeSpan.FromSeconds(cache.TtlSeconds.Value);
            }
        }
        if (cacheTtl is not null && kind != ModelKind.Chat)
        {
            errors.Add($"{path}.cache: only chat routes have the response cache");
        }
        return new ModelRoute(name ?? "", strategy, deployments, source, createdAt) { Kind = kind, LocalOnly = d.LocalOnly == true, CacheTtl = cacheTtl };
    }

    // A deployment's settings: its own values, else its model's, else the gateway default (null). Each value is
    // checked where it is written, so a bad model-level value is reported once, under the model.
    private static DeploymentSettings ToSettings(ModelDefinition model, DeploymentDefinition d, string path, List<string> errors) => new(
        d.Enabled ?? true,
        Retries(d.MaxRetries, path, errors) ?? model.MaxRetries,
        Seconds(d.Timeouts?.ConnectSeconds, path, "connectSeconds", 120, errors) ?? Seconds(model.Timeouts?.ConnectSeconds, null, "", 120, null),
        Seconds(d.Timeouts?.FirstByteSeconds, path, "firstByteSeconds", 3600, errors) ?? Seconds(model.Timeouts?.FirstByteSeconds, null, "", 3600, null),
        Seconds(d.Timeouts?.TotalSeconds, path, "totalSeconds", 86_400, errors) ?? Seconds(model.Timeouts?.TotalSeconds, null, "", 86_400, null));

    private static void CheckModelSettings(ModelDefinition model, string path, List<string> errors)
    {
        Retries(model.MaxRetries, path, errors);
        Seconds(model.Timeouts?.ConnectSeconds, path, "connectSeconds", 120, errors);
        Seconds(model.Timeouts?.FirstByteSeconds, path, "firstByteSeconds", 3600, errors);
        Seconds(model.Timeouts?.TotalSeconds, path, "totalSeconds", 86_400, errors);
    }

    private static int? Retries(int? value, string path, List<string> errors)
    {
        if (value is < 0 or > 5)
        {
            errors.Add($"{path}.maxRetries: must be between 0 and 5 (got {value})");
            return null;
        }
        return value;
    }

    /// <param name="errors">null when the value was already checked (a model default applied to a deployment).</param>
    private static TimeSpan? Seconds(double? value, string? path, string name, double max, List<string>? errors)
    {
        if (value is null)
        {
            return null;
        }
        if (!double.IsFinite(value.Value) || value <= 0 || value > max)
        {
            errors?.Add($"{path}.timeouts.{name}: must be more than 0 and at most {max} seconds (got {value})");
            return null;
        }
        return TimeSpan.FromSeconds(value.Value);
    }

    private static Price? ToPrice(PriceDefinition? p, string path, ModelKind kind, List<string> errors)
    {
        if (p is null)
        {
            errors.Add(kind == ModelKind.Chat
                ? $"{path}: required ({{ \"currency\": \"CNY\"|\"USD\", \"input\": n, \"output\": n }} per one million tokens)"
                : $"{path}: required ({{ \"currency\": \"CNY\"|\"USD\", \"{UnitPriceName(kind)}\": n }})");
            return null;
        }
        if (kind != ModelKind.Chat)
        {
            return ToUnitPrice(p, path, kind, errors);
        }
        var ok = true;
        if (!Enum.TryParse<Currency>(p.Currency, ignoreCase: true, out var currency) || !Enum.IsDefined(currency) || p.Currency!.Any(char.IsDigit))
        {
            errors.Add($"{path}.currency: must be CNY or USD");
            ok = false;
        }
        ok &= NonNegative(p.Input, $"{path}.input", required: true, errors);
        ok &= NonNegative(p.Output, $"{path}.output", required: true, errors);
        ok &= NonNegative(p.CachedInput, $"{path}.cachedInput", required: false, errors);
        ok &= NonNegative(p.Reasoning, $"{path}.reasoning", required: false, errors);
        foreach (var (name, value) in new (string, decimal?)[] { ("perSecond", p.PerSecond), ("perMillionCharacters", p.PerMillionCharacters), ("perPage", p.PerPage) })
        {
            if (value is not null)
            {
                errors.Add($"{path}.{name}: only transcription, speech and ocr routes take unit prices (this route's kind is chat)");
                ok = false;
            }
        }
        return ok ? new Price(currency, p.Input!.Value, p.Output!.Value, p.CachedInput, p.Reasoning, p.EffectiveFrom) : null;
    }

    /// <summary>The price field a route of <paramref name="kind"/> is charged by.</summary>
    public static string UnitPriceName(ModelKind kind) => kind switch
    {
        ModelKind.Transcription => "perSecond",
        ModelKind.Speech => "perMillionCharacters",
        _ => "perPage",
    };

    // A speech or OCR price names its unit; token prices do not apply to it (and the unit prices not to chat).
    private static Price? ToUnitPrice(PriceDefinition p, string path, ModelKind kind, List<string> errors)
    {
        var ok = true;
        if (!Enum.TryParse<Currency>(p.Currency, ignoreCase: true, out var currency) || !Enum.IsDefined(currency) || p.Currency!.Any(char.IsDigit))
        {
            errors.Add($"{path}.currency: must be CNY or USD");
            ok = false;
        }
        var wanted = UnitPriceName(kind);
        var unit = kind switch { ModelKind.Transcription => p.PerSecond, ModelKind.Speech => p.PerMillionCharacters, _ => p.PerPage };
        ok &= NonNegative(unit, $"{path}.{wanted}", required: true, errors);
        foreach (var (name, value) in new (string, object?)[]
                 {
                     ("input", p.Input), ("output", p.Output), ("cachedInput", p.CachedInput), ("reasoning", p.Reasoning),
                     ("perSecond", p.PerSecond), ("perMillionCharacters", p.PerMillionCharacters), ("perPage", p.PerPage),
                 })
        {
            if (value is not null && name != wanted)
            {
                errors.Add($"{path}.{name}: a {ModelKinds.Name(kind)} route is priced by {wanted} only");
                ok = false;
            }
        }
        return ok ? new Price(currency, 0, 0, null, null, p.EffectiveFrom)
        {
            PerSecond = kind == ModelKind.Transcription ? unit : null,
            PerMillionCharacters = kind == ModelKind.Speech ? unit : null,
            PerPage = kind == ModelKind.Ocr ? unit : null,
        } : null;
    }

    // Each change needs its time; all in the first price's currency (a record's cost must stay comparable over time).
    private static List<Price> ToChanges(List<PriceDefinition>? changes, Price? first, string path, ModelKind kind, List<string> errors)
    {
        var list = new List<Price>();
        for (var i = 0; i < (changes?.Count ?? 0); i++)
        {
            var at = $"{path}[{i}]";
            if (ToPrice(changes![i], at, kind, errors) is not { } price)
            {
                continue;
            }
            if (price.EffectiveFrom is null)
            {
                errors.Add($"{at}.effectiveFrom: required (an ISO 8601 time)");
            }
            else if (first is not null && price.Currency != first.Currency)
            {
                errors.Add($"{at}.currency: must be {first.Currency}, the currency of the deployment's price");
            }
            else
            {
                list.Add(price);
            }
        }
        if (list.GroupBy(p => p.EffectiveFrom).Any(g => g.Count() > 1))
        {
            errors.Add($"{path}: two changes take effect at the same time");
        }
        return [.. list.OrderBy(p => p.EffectiveFrom)];
    }

    private static bool NonNegative(decimal? value, string path, bool required, List<string> errors)
    {
        if (value is null)
        {
            if (required)
            {
                errors.Add(path.EndsWith(".input", StringComparison.Ordinal) || path.EndsWith(".output", StringComparison.Ordinal)
                    ? $"{path}: required (price per one million tokens)" : $"{path}: required");
            }
            return !required;
        }
        if (value < 0 || value > 1_000_000)
        {
            errors.Add($"{path}: must be between 0 and 1000000");
            return false;
        }
        return true;
    }

    private static string? RequireName(string? name, string path, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            errors.Add($"{path}: required, at most {MaxNameLength} characters, no spaces");
            return null;
        }
        return name;
    }

    public static bool TryParseStrategy(string value, out RoutingStrategy strategy)
    {
        strategy = value.ToLowerInvariant() switch
        {
            "priority" => RoutingStrategy.Priority,
            "weighted" => RoutingStrategy.Weighted,
            "lowest-latency" => RoutingStrategy.LowestLatency,
            "lowest-cost" => RoutingStrategy.LowestCost,
            _ => (RoutingStrategy)(-1),
        };
        return Enum.IsDefined(strategy);
    }

    public static string StrategyName(RoutingStrategy s) => s switch
    {
        RoutingStrategy.Weighted => "weighted",
        RoutingStrategy.LowestLatency => "lowest-latency",
        RoutingStrategy.LowestCost => "lowest-cost",
        _ => "priority",
    };
}
