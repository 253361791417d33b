using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Mulan.Gateway.Catalog;

public enum CatalogChange { Created, Conflict, Invalid, NotFound, Deleted, InUse, ReadOnly }

/// <summary>
/// Builds the catalog snapshot from the configuration file and the API-created entries, and applies API
/// changes. The configuration file is authoritative: it cannot be changed through the API.
/// </summary>
public sealed partial class CatalogService(
    ICatalogStore store, CatalogState state, IDataProtectionProvider protection, TimeProvider time, ILogger<CatalogService> logger,
    Cluster.ClusterNotices notices)
{
    private static readonly JsonSerializerOptions FileJson = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private readonly IDataProtector _protector = protection.CreateProtector("Mulan.Gateway.ProviderSecrets");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private CatalogFile _file = new();
    private Func<string, string?> _env = Environment.GetEnvironmentVariable;

    /// <summary>Reads and validates the configuration file; throws <see cref="CatalogValidationException"/> naming each bad setting.</summary>
    public static CatalogFile ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new CatalogValidationException([$"--config: file '{path}' does not exist"]);
        }
        try
        {
            return JsonSerializer.Deserialize<CatalogFile>(File.ReadAllBytes(path), FileJson) ?? new CatalogFile();
        }
        catch (JsonException e)
        {
            var at = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "(root)" : e.Path.TrimStart('$', '.');
            throw new CatalogValidationException([$"{at}: invalid JSON in '{path}' (line {e.LineNumber + 1}): {FirstSentence(e.Message)}"]);
        }
    }

    public async Task InitializeAsync(CatalogFile file, Func<string, string?> env, CancellationToken ct)
    {
        _file = file;
        _env = env;
        var errors = new List<string>();
        Build(await store.ListProvidersAsync(ct), await store.ListModelsAsync(ct), errors, strictFile: true);
        notices.OnChange(Cluster.ClusterTopics.Catalog, async token =>
        {
            await _gate.WaitAsync(token);
            try
            {
                await RebuildAsync(token);
            }
            finally
            {
                _gate.Release();
            }
        });
    }

    public async Task<(CatalogChange Change, IReadOnlyList<string> Errors)> AddProviderAsync(ProviderDefinition definition, CancellationToken ct)
    {
        var errors = new List<string>();
        var built = CatalogValidator.ToProvider(definition, "provider", CatalogSource.Api, _ => null, errors);
        if (definition.Name == LocalEngines.ProviderName || built.Kind.Protocol == WireProtocol.Local)
        {
            errors.Add("provider: the provider 'local' (kind local) is built in; route to it without defining it");
        }
        if (definition.ApiKey?.StartsWith("env:", StringComparison.Ordinal) == true)
        {
            errors.RemoveAll(e => e.StartsWith("provider.apiKey", StringComparison.Ordinal));
            errors.Add("provider.apiKey: env: references are only allowed in the configuration file");
        }
        if (errors.Count > 0)
        {
            return (CatalogChange.Invalid, errors);
        }
        await _gate.WaitAsync(ct);
        try
        {
            if (state.Current.Providers.ContainsKey(definition.Name!))
            {
                return (CatalogChange.Conflict, [$"provider.name: a provider named '{definition.Name}' exists"]);
            }
            var secret = definition.ApiKey is null ? null : _protector.Protect(Encoding.UTF8.GetBytes(definition.ApiKey));
            var stored = new ProviderDefinition { Name = definition.Name, Kind = definition.Kind, BaseUrl = definition.BaseUrl, Headers = definition.Headers, Location = definition.Location };
            if (!await store.TryAddProviderAsync(new StoredProvider(stored, secret, time.GetUtcNow()), ct))
            {
                return (CatalogChange.Conflict, [$"provider.name: a provider named '{definition.Name}' exists"]);
            }
            await ChangedAsync(ct);
            return (CatalogChange.Created, []);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<(CatalogChange Change, IReadOnlyList<string> Errors)> AddModelAsync(ModelDefinition definition, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var errors = new List<string>();
            CatalogValidator.ToModel(definition, "model", CatalogSource.Api, state.Current.Providers, time.GetUtcNow(), errors);
            if (errors.Count > 0)
            {
                return (CatalogChange.Invalid, errors);
            }
            if (state.Current.Models.ContainsKey(definition.Name!) ||
                !await store.TryAddModelAsync(new StoredModel(definition, time.GetUtcNow()), ct))
            {
                return (CatalogChange.Conflict, [$"model.name: a model named '{definition.Name}' exists"]);
            }
            await ChangedAsync(ct);
            return (CatalogChange.Created, []);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Announces a new price for one deployment of an API-created route, from <c>price.effectiveFrom</c> on (now or later:
    /// requests already served keep the price they were charged at, so a change never reaches back). Config routes change
    /// in the configuration file.
    /// </summary>
    public async Task<(CatalogChange Change, IReadOnlyList<string> Errors)> AddPriceChangeAsync(string name, string? provider, string? vendorModel,
        PriceDefinition? price, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!state.Current.Models.TryGetValue(name, out var route))
            {
                return (CatalogChange.NotFound, []);
            }
            if (route.Source == CatalogSource.Config)
            {
                return (CatalogChange.ReadOnly, []);
            }
            var now = time.GetUtcNow();
            var errors = new List<string>();
            if (price is null)
            {
                errors.Add("price: required: {currency, input, output, effectiveFrom, ...} as in a deployment's price");
            }
            else if (price.EffectiveFrom is null)
            {
                errors.Add("price.effectiveFrom: required: when the price starts to apply (ISO 8601)");
            }
            else if (price.EffectiveFrom < now.AddMinutes(-1))
            {
                errors.Add("price.effectiveFrom: must not be in the past: requests already served keep the price they were charged at");
            }
            var stored = (await store.ListModelsAsync(ct)).FirstOrDefault(m => m.Definition.Name == name)?.Definition;
            // A copy through JSON: the stored definition stays as it is until the new one is saved.
            var definition = stored is null ? null : JsonSerializer.Deserialize<ModelDefinition>(JsonSerializer.Serialize(stored, FileJson), FileJson)!;
            var deployment = definition?.Deployments?.FirstOrDefault(d => d.Provider == provider && d.Model == vendorModel);
            if (definition is null)
            {
                return (CatalogChange.NotFound, []);
            }
            if (deployment is null)
            {
                errors.Add($"provider: no deployment of '{name}' is {provider ?? "(none)"}/{vendorModel ?? "(none)"}; it has " +
                    string.Join(", ", (definition.Deployments ?? []).Select(d => $"{d.Provider}/{d.Model}")));
            }
            if (errors.Count > 0)
            {
                return (CatalogChange.Invalid, errors);
            }
            (deployment!.PriceChanges ??= []).Add(price!);
            var check = new List<string>();
            CatalogValidator.ToModel(definition, "model", CatalogSource.Api, state.Current.Providers, now, check);
            if (check.Count > 0)
            {
                // The route was valid before; what is wrong now is the new price. Name it as the request did.
                var index = definition.Deployments!.IndexOf(deployment);
                var prefix = $"model.deployments[{index}].priceChanges[{deployment.PriceChanges.Count - 1}]";
                return (CatalogChange.Invalid, [.. check.Select(e => e.StartsWith(prefix, StringComparison.Ordinal) ? "price" + e[prefix.Length..] : e)]);
            }
            if (!await store.ReplaceModelAsync(definition, ct))
            {
                return (CatalogChange.NotFound, []);
            }
            await ChangedAsync(ct);
            return (CatalogChange.Created, []);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<CatalogChange> DeleteProviderAsync(string name, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var snapshot = state.Current;
            if (!snapshot.Providers.TryGetValue(name, out var provider))
            {
                return CatalogChange.NotFound;
            }
            if (provider.Source == CatalogSource.Config)
            {
                return CatalogChange.ReadOnly;
            }
            if (snapshot.Models.Values.Any(m => m.Deployments.Any(d => d.Provider.Name == name)))
            {
                return CatalogChange.InUse;
            }
            await store.DeleteProviderAsync(name, ct);
            await ChangedAsync(ct);
            return CatalogChange.Deleted;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<CatalogChange> DeleteModelAsync(string name, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!state.Current.Models.TryGetValue(name, out var model))
            {
                return CatalogChange.NotFound;
            }
            if (model.Source == CatalogSource.Config)
            {
                return CatalogChange.ReadOnly;
            }
            await store.DeleteModelAsync(name, ct);
            await ChangedAsync(ct);
            return CatalogChange.Deleted;
        }
        finally
        {
            _gate.Release();
        }
    }

    // After a change made here: this node's catalog, then the other nodes'.
    private async Task ChangedAsync(CancellationToken ct)
    {
        await RebuildAsync(ct);
        await notices.PublishAsync(Cluster.ClusterTopics.Catalog);
    }

    private async Task RebuildAsync(CancellationToken ct) =>
        Build(await store.ListProvidersAsync(ct), await store.ListModelsAsync(ct), [], strictFile: false);

    private void Build(IReadOnlyList<StoredProvider> apiProviders, IReadOnlyList<StoredModel> apiModels, List<string> errors, bool strictFile)
    {
        // The built-in engines are always there, under a name no configured provider may take.
        var providers = new Dictionary<string, Provider>(StringComparer.Ordinal) { [LocalEngines.ProviderName] = LocalEngines.Provider };
        for (var i = 0; i < (_file.Providers?.Count ?? 0); i++)
        {
            var p = CatalogValidator.ToProvider(_file.Providers![i], $"providers[{i}]", CatalogSource.Config, _env, errors);
            if (p.Name == LocalEngines.ProviderName || p.Kind.Protocol == WireProtocol.Local)
            {
                errors.Add($"providers[{i}]: the provider 'local' (kind local) is built in; route to it without defining it");
            }
            else if (!providers.TryAdd(p.Name, p) && p.Name.Length > 0)
            {
                errors.Add($"providers[{i}].name: '{p.Name}' is defined twice");
            }
        }
        var models = new Dictionary<string, ModelRoute>(StringComparer.Ordinal);
        for (var i = 0; i < (_file.Models?.Count ?? 0); i++)
        {
            var m = CatalogValidator.ToModel(_file.Models![i], $"models[{i}]", CatalogSource.Config, providers, DateTimeOffset.UnixEpoch, errors);
            if (!models.TryAdd(m.Name, m) && m.Name.Length > 0)
            {
                errors.Add($"models[{i}].name: '{m.Name}' is defined twice");
            }
        }
        if (strictFile && errors.Count > 0)
        {
            throw new CatalogValidationException(errors);
        }
        foreach (var sp in apiProviders)
        {
            var apiKey = sp.ProtectedApiKey is null ? null : Encoding.UTF8.GetString(_protector.Unprotect(sp.ProtectedApiKey));
            var def = new ProviderDefinition
            {
                Name = sp.Definition.Name, Kind = sp.Definition.Kind, BaseUrl = sp.Definition.BaseUrl, ApiKey = apiKey, Headers = sp.Definition.Headers,
                Location = sp.Definition.Location,
            };
            var local = new List<string>();
            var p = CatalogValidator.ToProvider(def, $"provider '{def.Name}'", CatalogSource.Api, _ => null, local);
            if (local.Count > 0 || !providers.TryAdd(p.Name, p))
            {
                LogSkipped(logger, "provider", def.Name ?? "", local.Count > 0 ? string.Join("; ", local) : "the configuration file defines the same name");
            }
        }
        foreach (var sm in apiModels)
        {
            var local = new List<string>();
            var m = CatalogValidator.ToModel(sm.Definition, $"model '{sm.Definition.Name}'", CatalogSource.Api, providers, sm.CreatedAt, local);
            if (local.Count > 0 || !models.TryAdd(m.Name, m))
            {
                LogSkipped(logger, "model", sm.Definition.Name ?? "", local.Count > 0 ? string.Join("; ", local) : "the configuration file defines the same name");
            }
        }
        state.Swap(new CatalogSnapshot(providers.Values, models.Values));
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping the API-defined {Kind} '{Name}': {Reason}")]
    private static partial void LogSkipped(ILogger logger, string kind, string name, string reason);
}
