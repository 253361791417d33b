using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Mulan.Access;
using Mulan.Apps.Copywriting;
using Mulan.Audit;
using Mulan.Knowledge;

namespace Mulan.Apps.Compliance;

public static class ComplianceEndpoints
{
    public const int MaxTextLength = 100_000;

    public static IEndpointRouteBuilder MapCompliance(this IEndpointRouteBuilder app)
    {
        // 100,000 characters fit in 2 MB even when every one is sent as a \uXXXX escape.
        var group = Caller.RequireCaller(app.MapGroup("/api/compliance"))
            .WithMetadata(new RequestSizeLimitAttribute(2 * 1024 * 1024));
        group.MapPost("/check", CheckAsync).WithName("CheckCompliance").RequireAccess(WorkspaceRole.Member)
            .WithSummary("Advertising-law terms (built-in and the workspace's) and, with a channel, its length limits; with the rewrite when any finding has a suggestion.");
        group.MapGet("/rules", GetRulesAsync).WithName("GetComplianceRules").RequireAccess(WorkspaceRole.Viewer).WithSummary("The built-in rules and the workspace's extra rules.");
        group.MapPut("/rules", PutRulesAsync).WithName("PutComplianceRules").RequireAccess(WorkspaceRole.Admin).WithSummary("Replace a workspace's extra rules (administrator key).");
        group.MapGet("/channels", Channels).WithName("ListChannelPresets").RequireAccess(WorkspaceRole.Viewer).WithSummary("The channel presets and their limits.");
        return app;
    }

    public sealed record CheckRequest(string? Text, string? Channel, string? Workspace);

    public sealed record FindingView(string Term, int Start, int Length, string Rule, string Category,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Suggestion,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail)
    {
        public static FindingView From(ComplianceFinding f) => new(f.Term, f.Start, f.Length, f.Rule, f.Category, f.Suggestion, f.Detail);
    }

    /// <param name="Rewritten">the text with every suggestion applied; present when at least one finding has one.</param>
    public sealed record CheckView(IReadOnlyList<FindingView> Findings,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Rewritten);

    public sealed record RuleView(IReadOnlyList<string> Terms, string Category, string Rule,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Suggestion,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Exceptions)
    {
        public static RuleView From(ComplianceRule r) => new(r.Terms, r.Category, r.Rule, r.Suggestion, r.Exceptions);
    }

    /// <param name="Workspace">the workspace's id; null when none was asked for (built-in rules only).</param>
    public sealed record RulesView(IReadOnlyList<RuleView> BuiltIn,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Workspace, IReadOnlyList<RuleView> Rules,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? UpdatedAt);

    public sealed record PutRulesRequest(IReadOnlyList<RuleInput?>? Rules);

    public sealed record ChannelsView(IReadOnlyList<ChannelPreset> Channels);

    private static async Task<Results<Ok<CheckView>, ValidationProblem, ProblemHttpResult>> CheckAsync(CheckRequest? body, HttpContext ctx,
        ComplianceChecker checker, WorkspaceRuleSource source, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (body?.Text is null)
        {
            errors["text"] = ["required"];
        }
        else if (body.Text.Length > MaxTextLength)
        {
            errors["text"] = [$"at most {MaxTextLength} characters (got {body.Text.Length})"];
        }
        if (body?.Channel is { } channel && !ChannelPresets.All.ContainsKey(channel))
        {
            errors["channel"] = [$"unknown channel '{channel}'; one of {string.Join(", ", ChannelPresets.All.Keys)}"];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (workspace, problem) = await WorkspaceAsync(Caller.Of(ctx), body!.Workspace, access, ct);
        if (problem is not null)
        {
            return problem;
        }
        var rules = workspace is null ? [] : await source.RulesAsync(workspace.Id, ct);
        var findings = checker.Check(body.Text!, body.Channel, rules);
        var rewritten = findings.Any(f => f.Suggestion is not null) ? ComplianceChecker.Rewrite(body.Text!, findings) : null;
        return TypedResults.Ok(new CheckView([.. findings.Select(FindingView.From)], rewritten));
    }

    private static async Task<Results<Ok<RulesView>, ValidationProblem, ProblemHttpResult>> GetRulesAsync(string? workspace, HttpContext ctx,
        ComplianceChecker checker, IComplianceStore store, IAccessStore access, CancellationToken ct)
    {
        var (w, problem) = await WorkspaceAsync(Caller.Of(ctx), workspace, access, ct);
        if (problem is not null)
        {
            return problem;
        }
        var stored = w is null ? null : await store.GetAsync(w.Id, ct);
        return TypedResults.Ok(new RulesView([.. checker.BuiltIn.Select(RuleView.From)], w?.Id, [.. (stored?.Rules ?? []).Select(RuleView.From)], stored?.UpdatedAt));
    }

    private static async Task<Results<Ok<RulesView>, ValidationProblem, ProblemHttpResult>> PutRulesAsync(string? workspace, PutRulesRequest? body,
        HttpContext ctx, ComplianceChecker checker, IComplianceStore store, IAccessStore access, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        if (!caller.HasRole(WorkspaceRole.Admin))
        {
            return TypedResults.Problem(statusCode: 403, detail: "Changing compliance rules needs the administrator key or a workspace admin.");
        }
        if (string.IsNullOrWhiteSpace(workspace))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["workspace"] = ["required: ?workspace=<name or id>"] });
        }
        var (rules, errors) = RuleInput.Validate(body?.Rules);
        var (w, problem) = await WorkspaceAsync(caller, workspace, access, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var before = await store.GetAsync(w!.Id, ct);
        var saved = new WorkspaceComplianceRules(w.Id, rules, time.GetUtcNow());
        await store.SaveAsync(saved, ct);
        await audit.RecordAsync(AuditEntries.ComplianceRulesChanged(caller.Actor, w, before?.Rules ?? [], rules));
        return TypedResults.Ok(new RulesView([.. checker.BuiltIn.Select(RuleView.From)], w.Id, [.. rules.Select(RuleView.From)], saved.UpdatedAt));
    }

    private static Ok<ChannelsView> Channels() => TypedResults.Ok(new ChannelsView([.. ChannelPresets.All.Values]));

    /// <summary>
    /// The workspace whose rules apply. The administrator names one (or none: built-in rules only); a virtual key
    /// always uses its own, and naming another workspace is a 404, as if it did not exist.
    /// </summary>
    private static async Task<(Workspace? Workspace, ProblemHttpResult? Problem)> WorkspaceAsync(Caller caller, string? requested,
        IAccessStore access, CancellationToken ct)
    {
        if (caller.IsAdmin)
        {
            if (string.IsNullOrWhiteSpace(requested))
            {
                return (null, null);
            }
            return await access.FindWorkspaceAsync(requested, ct) is { } named
                ? (named, null)
                : (null, TypedResults.Problem(statusCode: 404, detail: $"No workspace '{requested}'."));
        }
        var own = await access.FindWorkspaceAsync(caller.WorkspaceId!, ct);
        if (own is null || (!string.IsNullOrWhiteSpace(requested) && requested != own.Id && requested != own.Name))
        {
            return (null, TypedResults.Problem(statusCode: 404, detail: $"No workspace '{requested}'."));
        }
        return (own, null);
    }
}
