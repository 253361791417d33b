namespace Mulan.Access;

public sealed record Workspace(string Id, string Name, DateTimeOffset CreatedAt)
{
    /// <summary>Shared by every key of the workspace, on top of each key's own.</summary>
    public KeyBudget? Budget { get; init; }
    public int? Rpm { get; init; }
    public int? Tpm { get; init; }

    /// <summary>Data residency: every request of the workspace stays on local providers.</summary>
    public bool LocalOnly { get; init; }
}

public enum BudgetPeriod { Day, Month, Total }

public sealed record KeyBudget(decimal Amount, string Currency, BudgetPeriod Period);

/// <summary>A virtual key as stored: never the key itself, only its hash and a display prefix.</summary>
public sealed record VirtualKey(
    string Id,
    string WorkspaceId,
    string Name,
    string KeyHash,
    string DisplayPrefix,
    IReadOnlyList<string>? Models,
    KeyBudget? Budget,
    int? Rpm,
    int? Tpm,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset CreatedAt)
{
    /// <summary>Data residency: this key's requests stay on local providers.</summary>
    public bool LocalOnly { get; init; }

    public bool AllowsModel(string model) => Models is null || Models.Count == 0 || Models.Contains(model, StringComparer.Ordinal);
}
