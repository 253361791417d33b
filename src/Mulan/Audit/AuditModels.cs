using System.Text.Json.Nodes;

namespace Mulan.Audit;

/// <summary>One administrative change, as a handler reports it. <see cref="Details"/> is built from an explicit
/// list of fields (see <see cref="AuditEntries"/>), so a secret can only get in by being named there.</summary>
/// <param name="Actor"><c>admin</c>, or <c>key:&lt;id&gt;</c> for a change made with a virtual key.</param>
/// <param name="WorkspaceId">the workspace the target belongs to; null for gateway-wide targets (providers, models).</param>
public sealed record AuditEntry(string Actor, string Action, string TargetType, string TargetId, string? WorkspaceId, JsonObject? Details);

/// <summary>An entry as stored: numbered and timed.</summary>
public sealed record AuditRecord(long Id, DateTimeOffset At, string Actor, string Action, string TargetType, string TargetId, string? WorkspaceId,
    JsonObject? Details);

/// <param name="To">exclusive.</param>
public sealed record AuditQuery(string? WorkspaceId, string? Action, DateTimeOffset? From, DateTimeOffset? To, int Page, int PageSize);

public sealed record AuditPage(long Count, IReadOnlyList<AuditRecord> Entries);

public static class AuditActor
{
    public const string Admin = "admin";

    /// <summary>Mulan itself (alerts it raises).</summary>
    public const string System = "system";

    public static string Key(string keyId) => "key:" + keyId;

    /// <summary>A signed-in user (an instance administrator user too).</summary>
    public static string User(string userId) => "user:" + userId;

    /// <summary>Someone with access to the data folder, on this machine (<c>mulan admin reset-key</c>).</summary>
    public const string DataFolder = "data-folder";
}

/// <summary>The action names, as stored and as accepted by <c>GET /api/audit?action=</c>.</summary>
public static class AuditActions
{
    public const string WorkspaceCreated = "workspace.created";
    public const string WorkspaceLimitsChanged = "workspace.limits_changed";
    public const string WorkspacePiiChanged = "workspace.pii_changed";
    public const string KeyCreated = "key.created";
    public const string KeyRevoked = "key.revoked";
    public const string KeyUpdated = "key.updated";
    public const string KeyRotated = "key.rotated";
    public const string WorkspaceRenamed = "workspace.renamed";
    public const string WorkspaceDeleted = "workspace.deleted";
    public const string ProviderCreated = "provider.created";
    public const string ProviderDeleted = "provider.deleted";
    public const string ModelCreated = "model.created";
    public const string ModelDeleted = "model.deleted";
    public const string ModelPriceChanged = "model.price_changed";
    public const string KnowledgeBaseCreated = "knowledge_base.created";
    public const string KnowledgeBaseUpdated = "knowledge_base.updated";
    public const string KnowledgeBaseDeleted = "knowledge_base.deleted";
    public const string DocumentRenamed = "document.renamed";
    public const string DocumentDeleted = "document.deleted";

    /// <summary>The administrator key was replaced with <c>mulan admin reset-key</c>.</summary>
    public const string AdminKeyReset = "admin.key_reset";

    /// <summary>A key's spend passed <c>Governance:BudgetAlertThreshold</c> of its budget this period.</summary>
    public const string BudgetThresholdReached = "budget.threshold_reached";

    /// <summary>A key's budget refused its first request this period.</summary>
    public const string BudgetExhausted = "budget.exhausted";

    /// <summary>An exchange rate was added through <c>/api/exchange-rates</c>.</summary>
    public const string ExchangeRateCreated = "exchange_rate.created";

    public const string AppCreated = "app.created";
    /// <summary>A new version of an app's definition.</summary>
    public const string AppUpdated = "app.updated";
    public const string AppPublished = "app.published";
    public const string AppRolledBack = "app.rolled_back";
    public const string AppDeleted = "app.deleted";
    /// <summary>A workspace's extra compliance rules were replaced through <c>PUT /api/compliance/rules</c>.</summary>
    public const string ComplianceRulesChanged = "compliance.rules_changed";
    /// <summary>A tool source (an OpenAPI import or an MCP server) was added through <c>/api/tools</c>.</summary>
    public const string ToolCreated = "tool.created";
    public const string ToolDeleted = "tool.deleted";
    /// <summary>A side-effecting tool call of a run was approved (the entry holds the exact call that ran).</summary>
    public const string RunApproved = "run.approved";
    public const string RunRejected = "run.rejected";
    /// <summary>A pending approval passed its expiry: the call was rejected without running.</summary>
    public const string RunApprovalExpired = "run.approval_expired";
    public const string RunCancelled = "run.cancelled";
    public const string UserCreated = "user.created";
    public const string UserInvited = "user.invited";
    public const string UserUpdated = "user.updated";
    public const string UserRemoved = "user.removed";
    public const string UserSignedIn = "user.signed_in";
    /// <summary>A refused sign-in: the email as typed and why (never the password).</summary>
    public const string UserSignInFailed = "user.sign_in_failed";
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";

    public static IReadOnlyList<string> All { get; } =
    [
        WorkspaceCreated, WorkspaceLimitsChanged, WorkspacePiiChanged, WorkspaceRenamed, WorkspaceDeleted, KeyCreated, KeyRevoked, KeyUpdated, KeyRotated,
        ProviderCreated, ProviderDeleted, ModelCreated, ModelDeleted, ModelPriceChanged,
        KnowledgeBaseCreated, KnowledgeBaseUpdated, AdminKeyReset, BudgetThresholdReached, BudgetExhausted, ExchangeRateCreated,
        KnowledgeBaseDeleted, DocumentRenamed, DocumentDeleted, AppCreated, AppUpdated, AppPublished, AppRolledBack, AppDeleted, ComplianceRulesChanged,
        ToolCreated, ToolDeleted, RunApproved, RunRejected, RunApprovalExpired, RunCancelled,
        UserCreated, UserInvited, UserUpdated, UserRemoved, UserSignedIn, UserSignInFailed, TokenCreated, TokenRevoked,
    ];
}
