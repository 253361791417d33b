using System.Globalization;
using Mulan.Access;

namespace Mulan.Gateway;

/// <summary>
/// What the gateway calls this server makes to itself over HTTP (<c>SelfGateway</c>: a knowledge base's query
/// embeddings, reranking and answers) are made for: the app and app request they serve, the assistant run, the
/// evaluation run. Those calls are on a service key (the workspace's knowledge key), so without this their usage
/// records would name no app, run or evaluation; with it they carry the same attribution as the model calls around them,
/// and an evaluation item counts their cost. The scope travels as headers that the gateway believes only from this
/// server's own service keys (whose secrets never leave the process). In-process calls use request features instead
/// (<see cref="InProcessCall"/>, <see cref="EvaluationCall"/>).
/// </summary>
public sealed class SelfCallScope
{
    public const string EvaluationRunHeader = "x-mulan-evaluation-run";
    public const string AppHeader = "x-mulan-app";
    public const string AppVersionHeader = "x-mulan-app-version";
    public const string ParentRequestHeader = "x-mulan-parent-request";
    public const string RunHeader = "x-mulan-run";
    private const int MaxIdLength = 64;
    private static readonly AsyncLocal<SelfCallScope?> s_current = new();
    private readonly SelfCallScope? _parent;
    private readonly Lock _gate = new();
    private readonly List<(decimal Amount, string? Currency)> _costs = [];
    private long _promptTokens, _completionTokens;

    private SelfCallScope(string? evaluationRunId, AppAttribution? app, SelfCallScope? parent) =>
        (EvaluationRunId, App, _parent) = (evaluationRunId, app, parent);

    public string? EvaluationRunId { get; }

    public AppAttribution? App { get; }

    /// <summary>The scope of the work on this async flow, if any.</summary>
    public static SelfCallScope? Current => s_current.Value;

    /// <summary>Starts the scope of one evaluation item for the rest of the calling async method (an async local reverts
    /// when the method returns).</summary>
    public static SelfCallScope BeginEvaluation(string runId) => s_current.Value = new SelfCallScope(runId, null, null);

    /// <summary>Starts the scope of an app request or assistant run, inside the evaluation item it may serve (whose cost
    /// then counts what this scope's calls cost).</summary>
    public static SelfCallScope BeginApp(AppAttribution app)
    {
        var outer = s_current.Value;
        return s_current.Value = new SelfCallScope(app.EvaluationRunId ?? outer?.EvaluationRunId, app, outer);
    }

    /// <summary>Puts the scope on a self-call.</summary>
    public void Stamp(HttpRequestMessage request)
    {
        if (EvaluationRunId is { } run)
        {
            request.Headers.Add(EvaluationRunHeader, run);
        }
        if (App is { } app)
        {
            request.Headers.Add(AppHeader, app.AppId);
            request.Headers.Add(AppVersionHeader, app.Version.ToString(CultureInfo.InvariantCulture));
            if (app.ParentRequestId is { } parent)
            {
                request.Headers.Add(ParentRequestHeader, parent);
            }
            if (app.RunId is { } assistantRun)
            {
                request.Headers.Add(RunHeader, assistantRun);
            }
        }
    }

    /// <summary>Counts one self-call's cost (from its <c>x-mulan-cost</c> headers) and, for chat, its tokens.</summary>
    public void Add(string? cost, string? currency, long promptTokens = 0, long completionTokens = 0)
    {
        var amount = decimal.TryParse(cost, NumberStyles.Number, CultureInfo.InvariantCulture, out var a) ? a : 0m;
        lock (_gate)
        {
            _costs.Add((amount, string.IsNullOrEmpty(currency) ? null : currency));
            _promptTokens += promptTokens;
            _completionTokens += completionTokens;
        }
        _parent?.Add(cost, currency, promptTokens, completionTokens);
    }

    public IReadOnlyList<(decimal Amount, string? Currency)> Costs
    {
        get
        {
            lock (_gate)
            {
                return [.. _costs];
            }
        }
    }

    public (long Prompt, long Completion) Tokens
    {
        get
        {
            lock (_gate)
            {
                return (_promptTokens, _completionTokens);
            }
        }
    }

    /// <summary>Whether a request's scope headers are believed: only from a knowledge or evaluation service key.</summary>
    public static bool Trusted(VirtualKey key) =>
        key.Id.StartsWith(ServiceKeys.KeyIdPrefix, StringComparison.Ordinal) || key.Id.StartsWith(ServiceKeys.EvaluationKeyIdPrefix, StringComparison.Ordinal);

    /// <summary>The evaluation run a trusted request says it is made for.</summary>
    public static string? EvaluationRunOf(HttpRequest request, VirtualKey key) => Trusted(key) ? Id(request, EvaluationRunHeader) : null;

    /// <summary>The app (and app request, assistant run) a trusted request says it is made for. No budget: the app's
    /// budget is reserved by its model calls, and a retrieval call is not refused half-way through an answer.</summary>
    public static AppAttribution? AppOf(HttpRequest request, VirtualKey key)
    {
        if (!Trusted(key) || Id(request, AppHeader) is not { } app
            || !int.TryParse(request.Headers[AppVersionHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return null;
        }
        return new AppAttribution(app, version, key.WorkspaceId, null, Id(request, ParentRequestHeader)) { RunId = Id(request, RunHeader) };
    }

    private static string? Id(HttpRequest request, string header)
    {
        var value = request.Headers[header].ToString();
        return value.Length is > 0 and <= MaxIdLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? value : null;
    }
}
