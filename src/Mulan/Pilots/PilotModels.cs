using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mulan.Pilots;

/// <summary>An exact amount in a currency named by its three-letter code (the contract's currency need not be one the gateway prices in).</summary>
public sealed record Money(decimal Amount, string Currency);

public static class PilotStatuses
{
    public const string Planned = "planned";
    public const string Active = "active";
    public const string Closed = "closed";
    public static readonly IReadOnlyList<string> All = [Planned, Active, Closed];
}

public static class Priorities
{
    public static readonly IReadOnlyList<string> All = ["must", "should", "could", "wont"];
}

public sealed record AlertSettings(IReadOnlyList<decimal> Thresholds, string? WebhookUrl);

public sealed record Pilot(string Id, string WorkspaceId, string Name, string Customer, string? Vendor, Money ContractValue, DateOnly Start, DateOnly End,
    Money? Budget, IReadOnlyList<string> Keys, AlertSettings Alerts, string Status, DateTimeOffset CreatedAt, DateTimeOffset? FrozenAt,
    IReadOnlyList<ScopeItem>? Baseline);

/// <summary>An acceptance criterion: the metric of the latest run of <paramref name="Set"/> must reach <paramref name="Threshold"/>.</summary>
public sealed record Criterion(string Metric, double Threshold, string Set);

public sealed record ScopeItem(string Id, string Title, string? Description, string Priority, string? Owner, string? App, IReadOnlyList<Criterion> Criteria);

public sealed record Impact(decimal EffortDays, Money Cost, int ScheduleDays);

public static class ChangeKinds
{
    public static readonly IReadOnlyList<string> All = ["add", "change", "remove"];
}

public static class ChangeStatuses
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
}

/// <summary>A change to a frozen scope; <paramref name="Scope"/> is the item as it would be (null for a removal).</summary>
public sealed record ChangeRequest(string Id, string PilotId, string Kind, string? Item, ScopeItem? Scope, Impact Impact, string Reason, string Status,
    DateTimeOffset CreatedAt, string? DecidedBy, string? Note, DateTimeOffset? DecidedAt);

public sealed record EffortEntry(string Id, string PilotId, string? ScopeItem, string Role, string? Person, decimal Days, Money DayRate, DateOnly Date,
    DateTimeOffset CreatedAt)
{
    /// <summary>Person-days × day rate, exact.</summary>
    [JsonIgnore]
    public decimal Amount => Days * DayRate.Amount;
}

/// <param name="Kind"><c>budget</c> (model and tool spend against the budget) or <c>contract</c> (cost to date against the contract value).</param>
public sealed record PilotAlert(string PilotId, string Kind, decimal Threshold, decimal Ratio, DateTimeOffset At, string? Delivery);

/// <summary>Evaluation runs the pilot compares side by side (e.g. one set over three vendors' routes), ranked by <paramref name="Weights"/>;
/// the table is computed from the runs whenever it is read, and what the runs cost is in the pilot's ledger.</summary>
public sealed record PilotBakeoff(string Id, string PilotId, string Title, IReadOnlyList<string> Runs, IReadOnlyDictionary<string, double> Weights,
    DateTimeOffset CreatedAt);

public sealed record Signoff(string PilotId, string Side, string Name, DateTimeOffset At, string Sha256, string Snapshot);

internal static class PilotJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
