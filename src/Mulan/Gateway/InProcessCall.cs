using Mulan.Access;

namespace Mulan.Gateway;

/// <summary>
/// What an app's model call carries into the gateway pipeline. It is a request feature, so only code in this process can
/// set it: no header or body field reaches it. The call runs the whole pipeline (limits, budget reservation, PII guard,
/// routing, metering) on the caller's own key; the app's route is granted because the key was allowed the app.
/// </summary>
/// <param name="GrantedRoute">the route the app calls, usable even when the key's allowlist names only the app.</param>
public sealed record InProcessCall(VirtualKey Key, AppAttribution App, string GrantedRoute);

/// <summary>Whom a gateway request is for: the app and version, its end user and the app request it serves.</summary>
/// <param name="Budget">the app's own budget, reserved and charged like a key's.</param>
public sealed record AppAttribution(string AppId, int Version, string WorkspaceId, string? EndUser, string? ParentRequestId, KeyBudget? Budget = null)
{
    /// <summary>The assistant run the call is a step of.</summary>
    public string? RunId { get; init; }

    /// <summary>The evaluation run the call is made for.</summary>
    public string? EvaluationRunId { get; init; }
}

/// <summary>
/// Marks an in-process gateway request as made by an evaluation run, so that its usage record (and, for an app, the
/// records of the model calls the app makes) carry the run. A request feature: no header or body field reaches it.
/// </summary>
public sealed record EvaluationCall(string RunId);

/// <summary>Published apps as models named <c>app:&lt;slug&gt;</c> (implemented by Apps).</summary>
public interface IAppModels
{
    public const string Prefix = "app:";

    /// <summary>Answers a <c>/v1/chat/completions</c> request whose model names an app; writes the whole response.</summary>
    Task HandleAsync(HttpContext ctx, Exchange x, Wire.GatewayRequest request);

    /// <summary>The published apps of the key's workspace that the key may use, as model names.</summary>
    IEnumerable<(string Name, DateTimeOffset CreatedAt)> ModelsFor(VirtualKey key);
}
