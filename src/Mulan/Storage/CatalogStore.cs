using System.Text.Json;
using Dapper;
using Mulan.Gateway.Catalog;

namespace Mulan.Storage;

/// <remarks>The same SQL on SQLite and PostgreSQL: one store over either database.</remarks>
public sealed class CatalogStore(IStorageDatabase db) : ICatalogStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<StoredProvider>> ListProvidersAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<(string Definition, byte[]? Secret, long CreatedAt)>(
            "SELECT definition, secret, created_at FROM providers ORDER BY created_at, name");
        return [.. rows.Select(r => new StoredProvider(JsonSerializer.Deserialize<ProviderDefinition>(r.Definition, Json)!, r.Secret,
            DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt)))];
    }

    public async Task<IReadOnlyList<StoredModel>> ListModelsAsync(CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<(string Definition, long CreatedAt)>("SELECT definition, created_at FROM model_routes ORDER BY created_at, name");
        return [.. rows.Select(r => new StoredModel(JsonSerializer.Deserialize<ModelDefinition>(r.Definition, Json)!,
            DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt)))];
    }

    public async Task<bool> TryAddProviderAsync(StoredProvider provider, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(
            "INSERT INTO providers (name, definition, secret, created_at) VALUES (@name, @definition, @secret, @at) ON CONFLICT DO NOTHING",
            new
            {
                name = provider.Definition.Name,
                definition = JsonSerializer.Serialize(provider.Definition, Json),
                secret = provider.ProtectedApiKey,
                at = provider.CreatedAt.ToUnixTimeMilliseconds(),
            }) == 1;
    }

    public async Task<bool> TryAddModelAsync(StoredModel model, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(
            "INSERT INTO model_routes (name, definition, created_at) VALUES (@name, @definition, @at) ON CONFLICT DO NOTHING",
            new { name = model.Definition.Name, definition = JsonSerializer.Serialize(model.Definition, Json), at = model.CreatedAt.ToUnixTimeMilliseconds() }) == 1;
    }

    public async Task<bool> ReplaceModelAsync(ModelDefinition definition, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("UPDATE model_routes SET definition = @definition WHERE name = @name",
            new { name = definition.Name, definition = JsonSerializer.Serialize(definition, Json) }) == 1;
    }

    public async Task<bool> DeleteProviderAsync(string name, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM providers WHERE name = @name", new { name }) == 1;
    }

    public async Task<bool> DeleteModelAsync(string name, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM model_routes WHERE name = @name", new { name }) == 1;
    }
}
