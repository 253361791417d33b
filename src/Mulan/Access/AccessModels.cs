namespace Mulan.Access;

public sealed record Workspace(string Id, string Name, DateTimeOffset CreatedAt)
{
    /// <summary>Shared by every key of the workspace, on top of each key's own.</summary>
    public KeyBudget? Budget { get; init; }
    public int? Rpm { get; init; }
    public int? Tpm { get; init; }

    /// <summary>Data residency: every request of the workspace stays on local providers.</summary>
    public bool LocalOnly { get; init; }

    /// <summary>The PII guard's rules as the administrator wrote them (null: none).</summary>
    public PiiSettings? Pii { get; init; }

    /// <summary>The same, compiled; applied before a request reaches an external provider.</summary>
    public Mulan.Governance.Pii.PiiPolicy? PiiPolicy { get; init; }

    /// <summary>When the workspace was deleted; a deleted workspace is kept only so its usage still resolves.</summary>
    public DateTimeOffset? DeletedAt { get; init; }
}

public sealed record PiiRuleSetting(string Kind, string Action);

public sealed record PiiPatternSetting(string Name, string Pattern);

public sealed record PiiSettings(IReadOnlyList<PiiRuleSetting> Rules, IReadOnlyList<PiiPatternSetting> Patterns)
{
    /// <summary>Compiles the settings.</summary>
    /// <exception cref="ArgumentException">a rule or pattern is not valid; the message names it.</exception>
    public Mulan.Governance.Pii.PiiPolicy Compile() => new(
        Rules.Select(r => new Mulan.Governance.Pii.PiiRule(r.Kind, Enum.Parse<Mulan.Governance.Pii.PiiAction>(r.Action, ignoreCase: true))),
        Patterns.Select(p => Mulan.Governance.Pii.PiiPattern.Create(p.Name, p.Pattern)));
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
