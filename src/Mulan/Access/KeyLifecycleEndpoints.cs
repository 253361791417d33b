using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using static Mulan.Access.AccessEndpoints;

namespace Mulan.Access;

/// <summary><c>PATCH /api/keys/{id}</c> and <c>POST /api/keys/{id}/rotate</c>. Both take an optional <c>?workspace=</c>: a
/// key of another workspace is then answered 404, exactly as a key that does not exist.</summary>
public static class KeyLifecycleEndpoints
{
    // Strict numbers, as on every /api body: "5" is not a number of requests.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict };

    public static RouteGroupBuilder MapKeyLifecycle(this RouteGroupBuilder api)
    {
        api.MapPatch("/keys/{id}", UpdateAsync).WithName("UpdateKey")
            .WithSummary("Change a key's name, models, budget, rpm/tpm, expiry or residency (JSON merge: a field left out stays, null removes it).");
        api.MapPost("/keys/{id}/rotate", RotateAsync).WithName("RotateKey")
            .WithSummary("Give a key a new secret (returned only here); the old one stops working at once. Id, usage and budget spend stay.");
        return api;
    }

    /// <summary>The stored key with that id, or null when there is none or it belongs to a workspace other than <paramref name="workspace"/>.</summary>
    public static async Task<VirtualKey?> FindInScopeAsync(string id, string? workspace, IAccessStore store, CancellationToken ct)
    {
        var key = await store.FindKeyAsync(id, ct);
        if (key is null || workspace is null)
        {
            return key;
        }
        var scope = await store.FindWorkspaceIncludingDeletedAsync(workspace, ct);
        return scope?.Id == key.WorkspaceId ? key : null;
    }

    public sealed record RotatedKey(string Id, string Name, string Prefix, string Key);

    private static async Task<Results<Ok<KeyDto>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string id, string? workspace, JsonObject? body, AccessService access, IAccessStore store, CatalogState catalog, Governance.Currencies.ExchangeRates rates,
        AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (await FindInScopeAsync(id, workspace, store, ct) is not { } before)
        {
            return TypedResults.Problem(detail: $"No key '{id}'.", statusCode: 404);
        }
        if (before.RevokedAt is not null)
        {
            return Revoked(id);
        }
        var errors = new Dictionary<string, string[]>();
        if (body is null)
        {
            errors["body"] = ["a JSON object of the fields to change"];
            return TypedResults.ValidationProblem(errors);
        }
        var after = Merge(before, body, catalog.Current, time, errors);
        if (errors.Count == 0 && (after.Budget != before.Budget || !Equals(after.Models, before.Models)))
        {
            // The same rule as on create: a budget must be chargeable for every model the key may use.
            var routes = after.Models is { Count: > 0 } m ? m.Select(n => catalog.Current.Models.GetValueOrDefault(n)).OfType<ModelRoute>() : catalog.Current.Models.Values;
            AccessEndpoints.CheckChargeable(after.Budget, routes, rates, errors);
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (after == before)
        {
            return TypedResults.Ok(KeyDto.From(before));
        }
        if (!await access.UpdateKeyAsync(after, ct))
        {
            return Revoked(id); // revoked between the read and the write
        }
        await audit.RecordAsync(AuditEntries.KeyUpdated(AuditActor.Admin, before, after));
        return TypedResults.Ok(KeyDto.From(after));
    }

    /// <summary>A JSON merge of <paramref name="patch"/> onto the key, each field checked by the rules create uses.</summary>
    private static VirtualKey Merge(VirtualKey key, JsonObject patch, CatalogSnapshot catalog, TimeProvider time, Dictionary<string, string[]> errors)
    {
        var budget = key.Budget is { } b ? new BudgetDto(b.Amount, b.Currency, b.Period.ToString().ToLowerInvariant()) : null;
        int? rpm = key.Rpm, tpm = key.Tpm;
        var budgetGiven = false;
        foreach (var (field, node) in patch)
        {
            switch (field.ToLowerInvariant())
            {
                case "name":
                    if (Read<string>(node, "name", "a string", errors, out var name))
                    {
                        key = key with { Name = KeyRules.Name(name, errors) ?? key.Name };
                    }
                    break;
                case "models":
                    if (Read<List<string?>>(node, "models", "a list of model names, or null for every model", errors, out var models))
                    {
                        key = key with { Models = KeyRules.Models(models, catalog, errors) };
                    }
                    break;
                case "budget":
                    budgetGiven = ReadBudget(node, errors, out budget);
                    break;
                case "rpm":
                    Read(node, "rpm", "a whole number or null", errors, out rpm);
                    break;
                case "tpm":
                    Read(node, "tpm", "a whole number or null", errors, out tpm);
                    break;
                case "expiresat":
                    if (Read<DateTimeOffset?>(node, "expiresAt", "an ISO 8601 date-time or null", errors, out var expires))
                    {
                        KeyRules.Expiry(expires, time, errors);
                        key = key with { ExpiresAt = expires };
                    }
                    break;
                case "localonly":
                    if (Read<bool?>(node, "localOnly", "true, false or null", errors, out var localOnly))
                    {
                        key = key with { LocalOnly = localOnly == true };
                    }
                    break;
                default:
                    errors[field] = ["cannot be changed; the fields are name, models, budget, rpm, tpm, expiresAt and localOnly"];
                    break;
            }
        }
        // The same check as on create, over the merged values; the unchanged budget is not re-checked against today's rules.
        var merged = KeyRules.Limits(budgetGiven ? budget : null, rpm, tpm, errors);
        return key with { Budget = budgetGiven ? merged : key.Budget, Rpm = rpm, Tpm = tpm };
    }

    /// <summary>A budget read field by field, so that a bad amount is named <c>budget.amount</c>.</summary>
    private static bool ReadBudget(JsonNode? node, Dictionary<string, string[]> errors, out BudgetDto? budget)
    {
        budget = null;
        if (node is null)
        {
            return true;
        }
        if (node is not JsonObject o)
        {
            errors["budget"] = ["must be {amount, currency, period} or null"];
            return false;
        }
        var ok = Read<decimal?>(o["amount"], "budget.amount", "a number greater than 0", errors, out var amount)
            & Read<string>(o["currency"], "budget.currency", "CNY or USD", errors, out var currency)
            & Read<string>(o["period"], "budget.period", "day, month or total", errors, out var period);
        budget = new BudgetDto(amount, currency, period);
        return ok;
    }

    private static bool Read<T>(JsonNode? node, string field, string expected, Dictionary<string, string[]> errors, out T? value)
    {
        try
        {
            value = node is null ? default : node.Deserialize<T>(Json);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            errors[field] = [$"must be {expected}"];
            value = default;
            return false;
        }
    }

    private static async Task<Results<Ok<RotatedKey>, ProblemHttpResult>> RotateAsync(
        string id, string? workspace, AccessService access, IAccessStore store, AuditLog audit, CancellationToken ct)
    {
        if (await FindInScopeAsync(id, workspace, store, ct) is not { } key)
        {
            return TypedResults.Problem(detail: $"No key '{id}'.", statusCode: 404);
        }
        if (key.RevokedAt is not null || await access.RotateKeyAsync(id, ct) is not { } secret)
        {
            return Revoked(id);
        }
        await audit.RecordAsync(AuditEntries.KeyRotated(AuditActor.Admin, key));
        return TypedResults.Ok(new RotatedKey(key.Id, key.Name, KeyMaterial.DisplayPrefix(secret), secret));
    }

    private static ProblemHttpResult Revoked(string id) =>
        TypedResults.Problem(detail: $"The key '{id}' is revoked and can no longer change; create a new key.", statusCode: 409);
}
