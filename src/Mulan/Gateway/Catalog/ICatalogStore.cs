namespace Mulan.Gateway.Catalog;

/// <summary>A provider as persisted: its definition without the key, and the key encrypted.</summary>
public sealed record StoredProvider(ProviderDefinition Definition, byte[]? ProtectedApiKey, DateTimeOffset CreatedAt);

public sealed record StoredModel(ModelDefinition Definition, DateTimeOffset CreatedAt);

/// <summary>Storage seam for providers and model routes created through the API.</summary>
public interface ICatalogStore
{
    Task<IReadOnlyList<StoredProvider>> ListProvidersAsync(CancellationToken ct);
    Task<IReadOnlyList<StoredModel>> ListModelsAsync(CancellationToken ct);
    /// <returns>false when the name exists.</returns>
    Task<bool> TryAddProviderAsync(StoredProvider provider, CancellationToken ct);
    Task<bool> TryAddModelAsync(StoredModel model, CancellationToken ct);
    /// <summary>Replaces a stored route's definition (a price change); false when there is none of that name.</summary>
    Task<bool> ReplaceModelAsync(ModelDefinition definition, CancellationToken ct);
    Task<bool> DeleteProviderAsync(string name, CancellationToken ct);
    Task<bool> DeleteModelAsync(string name, CancellationToken ct);
}
