using System.Text.Json;
using System.Text.Json.Serialization;
using Mulan.Access;

namespace Mulan.Apps;

/// <summary>The standard application kinds. The assistant's runtime comes with tools; its definition validates now.</summary>
public static class AppKinds
{
    public const string KnowledgeQa = "knowledge-qa";
    public const string Copywriter = "copywriter";
    public const string Assistant = "assistant";
    public static readonly IReadOnlyList<string> All = [KnowledgeQa, Copywriter, Assistant];
}

/// <summary>
/// A declarative app: what an integrator configures instead of coding. Stored as JSON, one immutable copy per version.
/// Knowledge bases are named by id or by name within the app's workspace; routes are catalog model names.
/// </summary>
public sealed record AppDefinition
{
    public string Slug { get; init; } = "";
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string? Description { get; init; }

    /// <summary>The chat route the app calls; null for a knowledge-qa app that answers extractively (offline).</summary>
    public string? Model { get; init; }

    /// <summary>The app's own instructions; <c>{{name}}</c> is replaced by a variable's value.</summary>
    public string? Instructions { get; init; }

    public IReadOnlyList<AppVariable>? Variables { get; init; }
    public string? OpeningMessage { get; init; }
    public IReadOnlyList<string>? SuggestedQuestions { get; init; }
    public IReadOnlyList<string>? KnowledgeBases { get; init; }
    public RetrievalSettings? Retrieval { get; init; }
    public AnswerSettings? Answer { get; init; }
    public ConversationSettings? Conversation { get; init; }
    public Guardrails? Guardrails { get; init; }
    public KeyBudget? Budget { get; init; }
    public AppLimits? Limits { get; init; }
    public CopywriterSettings? Copywriter { get; init; }

    /// <summary>Tool sources of an assistant, by name.</summary>
    public IReadOnlyList<string>? Tools { get; init; }

    public AssistantSettings? Assistant { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        // Web defaults read "5" as 5; a definition says what it means.
        NumberHandling = JsonNumberHandling.Strict,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        MaxDepth = 16,
    };
}

/// <param name="Required">a request must give it (copywriter inputs); otherwise <paramref name="Default"/> applies.</param>
public sealed record AppVariable(string Name, string? Description = null, string? Default = null, bool Required = false);

/// <param name="MinScore">results with a lower score (fused for hybrid, BM25 for keyword, cosine for vector) are dropped.</param>
/// <param name="Mode">hybrid, keyword or vector; null: the knowledge base's default.</param>
public sealed record RetrievalSettings(int? TopK = null, double? MinScore = null, double? KeywordWeight = null, double? VectorWeight = null,
    bool? Rerank = null, string? Mode = null);

/// <param name="Language">zh-Hans, zh-Hant, en or auto (the question's language and script).</param>
/// <param name="ConvertScript">convert the answer to the wanted Chinese script (default true).</param>
public sealed record AnswerSettings(string? Language = null, bool? ConvertScript = null);

/// <param name="HistoryTokens">earlier turns sent along are trimmed, oldest first, to this many tokens.</param>
/// <param name="RewriteFollowUps">turn a follow-up ("那第二條呢？") into a standalone retrieval query.</param>
public sealed record ConversationSettings(int? HistoryTokens = null, bool? RewriteFollowUps = null);

/// <param name="RefuseWhenNotGrounded">answer only what the knowledge bases support (default true).</param>
/// <param name="Pii">rules for what end users type: kind (email, phone, id-card, bank-card, or a pattern name) and action mask or block.</param>
public sealed record Guardrails(bool? RefuseWhenNotGrounded = null, string? RefusalMessage = null, IReadOnlyList<PiiRuleSetting>? Pii = null,
    IReadOnlyList<PiiPatternSetting>? PiiPatterns = null, IReadOnlyList<string>? BannedTerms = null, int? MaxAnswerCharacters = null);

/// <param name="EndUserRpm">requests per minute per end user (the request's <c>user</c>, else its key).</param>
public sealed record AppLimits(int? EndUserRpm = null);

/// <param name="Channel">a preset with its constraints (see <c>GET /api/compliance/channels</c>).</param>
/// <param name="Compliance">off, flag (return findings) or rewrite (replace flagged terms, then return findings left).</param>
public sealed record CopywriterSettings(string? Channel = null, int? Variants = null, string? Tone = null, string? Audience = null,
    int? Length = null, string? Compliance = null);

/// <param name="MaxCost">in the currency of the route's price.</param>
public sealed record AssistantSettings(int? MaxSteps = null, int? MaxTokens = null, decimal? MaxCost = null, int? MaxSeconds = null)
{
    /// <summary>Runs started by the clock, e.g. weekdays at 09:00 Asia/Shanghai.</summary>
    public IReadOnlyList<ScheduleSettings>? Schedules { get; init; }
}

/// <summary>A run started by the clock.</summary>
/// <param name="Cron">five fields (minute hour day-of-month month day-of-week), or six with seconds first.</param>
/// <param name="TimeZone">an IANA time zone, e.g. <c>Asia/Shanghai</c>; default UTC.</param>
/// <param name="Input">what the run is asked.</param>
/// <param name="Webhook">where the finished run is posted (a guarded outbound call); without one it is kept as the run's output.</param>
public sealed record ScheduleSettings(string Name = "", string Cron = "", string? TimeZone = null, string Input = "", WebhookSettings? Webhook = null);

public sealed record WebhookSettings(string Url = "");
