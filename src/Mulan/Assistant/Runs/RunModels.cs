using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mulan.Assistant.Runs;

public static class RunStatuses
{
    public const string Running = "running";
    public const string AwaitingApproval = "awaiting_approval";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public static readonly IReadOnlyList<string> All = [Running, AwaitingApproval, Succeeded, Failed, Cancelled];

    public static bool IsTerminal(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>What started a run.</summary>
public static class RunOrigins
{
    public const string Api = "api";
    public const string Chat = "chat";
    public const string Schedule = "schedule";
}

/// <summary>One run of an assistant app: its status, what it was asked, what it answered, and what it spent.</summary>
/// <param name="KeyId">the key its model calls are charged to (the caller's, or the workspace's assistant service key).</param>
public sealed record Run(
    string Id, string AppId, int AppVersion, string WorkspaceId, string KeyId, string Origin, string? Schedule, string Status, string Input,
    string? Output, string? Error, long PromptTokens, long CompletionTokens, decimal Cost, string? Currency, int Steps,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? EndedAt);

public static class StepKinds
{
    public const string Model = "model";
    public const string Tool = "tool";
    public const string Approval = "approval";

    /// <summary>A scheduled run's result posted to its webhook (after the run ended).</summary>
    public const string Delivery = "delivery";
}

public static class StepStatuses
{
    public const string Ok = "ok";
    public const string Failed = "failed";
    public const string AwaitingApproval = "awaiting_approval";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";
}

/// <summary>One entry of a run's trace: a model call, a tool call, or an approval decision.</summary>
/// <param name="Input">for a model call, the messages added since the previous call; for a tool, the exact arguments.</param>
public sealed record RunStep(int Seq, string Kind, string? Name, string Status, string? Input, string? Output, string? Error, long DurationMs,
    decimal Cost, string? RequestId, DateTimeOffset At);

/// <summary>A tool call the model asked for and that has not run yet.</summary>
/// <param name="Arguments">the arguments exactly as the model sent them (maybe not even JSON).</param>
public sealed record PendingCall(string Id, string Name, string Arguments);

/// <summary>A side-effecting call waiting for a person's decision.</summary>
/// <param name="Arguments">the parsed arguments that will run if approved unchanged.</param>
public sealed record PendingApproval(string CallId, string Tool, string Source, JsonObject Arguments, DateTimeOffset ExpiresAt, int Step);

/// <summary>
/// What a run continues from: the conversation with the model so far, the calls of the model's last turn still to
/// run, a pending approval, and how often each exact call was made. Stored with the run after every step, so a
/// paused run resumes where it stopped, even after a restart.
/// </summary>
public sealed class RunState
{
    /// <summary>The conversation with the model. Only ever appended to, and stored apart (one row per message), so a step
    /// writes what it added rather than the whole conversation again.</summary>
    [JsonIgnore]
    public JsonArray Messages { get; set; } = [];

    /// <summary>How many of <see cref="Messages"/> are stored.</summary>
    [JsonIgnore]
    public int StoredMessages { get; set; }

    public List<PendingCall> Queue { get; set; } = [];
    public PendingApproval? Pending { get; set; }

    /// <summary>The call id a person approved, with the arguments it runs with.</summary>
    public PendingApproval? Approved { get; set; }

    /// <summary>Tool name + canonical arguments → times called.</summary>
    public Dictionary<string, int> Calls { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Model and tool calls made (what <c>maxSteps</c> limits).</summary>
    public int Work { get; set; }

    /// <summary>Time spent running (not waiting for approval), what <c>maxSeconds</c> limits.</summary>
    public long ActiveMs { get; set; }

    /// <summary>The end user named by the chat request that started the run.</summary>
    public string? EndUser { get; set; }

    /// <summary>The app request (<c>app.chat</c>) a chat run serves.</summary>
    public string? ParentRequestId { get; set; }

    /// <summary>Messages already shown in a model step's input (the next model step shows only the new ones).</summary>
    public int Shown { get; set; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public static RunState Parse(string json) => JsonSerializer.Deserialize<RunState>(json, Json) ?? new RunState();
}
