using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Access;
using Mulan.Hosting.Problems;

namespace Mulan.Gateway.Metering;

public static class UsageEndpoints
{
    public const int MaxPageSize = 1000;
    public const int MaxPage = 1_000_000;

    public static RouteGroupBuilder MapUsage(this RouteGroupBuilder api)
    {
        api.MapGet("/usage", QueryAsync).WithName("Usage").WithSummary("Usage totals and per-request records, filtered and paged.");
        return api;
    }

    /// <summary><c>GET /api/workspaces/{workspace}/usage</c>: the same, for one workspace, readable by its own keys.</summary>
    public static RouteGroupBuilder MapWorkspaceUsage(this RouteGroupBuilder scope)
    {
        scope.MapGet("/usage", (HttpContext ctx, string? key, string? model, string? app, string? run, string? evaluationRun, DateTimeOffset? from, DateTimeOffset? to, int? page, int? pageSize,
                string? format, IUsageStore store, IAccessStore access, CancellationToken ct) =>
                QueryAsync(key, WorkspaceScope.Of(ctx).Id, model, app, run, evaluationRun, from, to, page, pageSize, format, store, access, ct))
            .WithName("WorkspaceUsage").WithSummary("One workspace's usage; its own virtual keys may read it.");
        return scope;
    }

    public sealed record Money(decimal Amount, string? Currency);

    public sealed record Totals(long Requests, long InputTokens, long CachedTokens, long OutputTokens, Money Cost, IReadOnlyList<Money> Costs);

    public sealed record RecordView(string RequestId, DateTimeOffset At, string Workspace, string Key, string Endpoint, string Model,
        string? Provider, string? VendorModel, string? UpstreamId, long InputTokens, long CachedTokens, long OutputTokens, Money Cost,
        double LatencyMs, double? TimeToFirstTokenMs, string Status, string Usage, bool Streamed, int HttpStatus, string? Error,
        int Attempts, IReadOnlyList<UnservedView> Unserved, long ReasoningTokens, PriceView? Price, string? App, int? AppVersion, string? User,
        string? ParentRequestId, string? Run, string? EvaluationRun)
    {
        /// <summary>Speech and OCR: seconds of audio, characters or pages metered (absent for token-metered requests).</summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public decimal? Units { get; init; }

        /// <summary><c>seconds</c>, <c>characters</c> or <c>pages</c>.</summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public string? Unit { get; init; }
    }

    /// <summary>The price a record was charged at, per one million tokens.</summary>
    public sealed record PriceView(string Currency, decimal Input, decimal Output, decimal? CachedInput, decimal? Reasoning, DateTimeOffset? EffectiveFrom)
    {
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public decimal? PerSecond { get; init; }

        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public decimal? PerMillionCharacters { get; init; }

        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public decimal? PerPage { get; init; }
    }

    /// <summary>A failed attempt the vendor may still bill; not part of <c>cost</c>.</summary>
    public sealed record UnservedView(string Provider, string VendorModel, string Reason, long InputTokens, Money Cost);

    public sealed record UsageResponse(Totals Totals, int Page, int PageSize, long Count, IReadOnlyList<RecordView> Records);

    private static async Task<Results<Ok<UsageResponse>, PushStreamHttpResult, ValidationProblem>> QueryAsync(
        string? key, string? workspace, string? model, string? app, string? run, string? evaluationRun, DateTimeOffset? from, DateTimeOffset? to, int? page, int? pageSize,
        string? format, IUsageStore store, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (format is not null and not "json" and not "csv")
        {
            errors["format"] = ["must be json or csv"];
        }
        errors.Range("page", page, 1, MaxPage);
        errors.Range("pageSize", pageSize, 1, MaxPageSize);
        if (from is not null && to is not null && from >= to)
        {
            errors["to"] = ["must be after from"];
        }
        var workspaceId = await access.ResolveAsync(workspace, errors, ct);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var query = new UsageQuery(key, workspaceId, model, from, to, page ?? 1, pageSize ?? 50, app) { RunId = run, EvaluationRunId = evaluationRun };
        if (format == "csv")
        {
            // Every matching record (paging ignored), streamed as it is read.
            return TypedResults.Stream(body => UsageCsv.WriteAsync(store.ExportAsync(query, ct), body, ct), "text/csv; charset=utf-8", "usage.csv");
        }
        var result = await store.QueryAsync(query, ct);
        var costs = result.Totals.Where(t => t.Currency is not null).Select(t => new Money(t.Cost, t.Currency)).ToList();
        var totals = new Totals(
            result.Totals.Sum(t => t.Requests), result.Totals.Sum(t => t.InputTokens), result.Totals.Sum(t => t.CachedTokens),
            result.Totals.Sum(t => t.OutputTokens),
            // One currency is the common case; with several, `cost` is the one with most requests and `costs` has them all.
            costs.FirstOrDefault() ?? new Money(0, null), costs);
        var records = result.Records.Select(r => new RecordView(r.RequestId, r.At, r.WorkspaceId, r.KeyId, r.Endpoint, r.Model, r.Provider,
            r.VendorModel, r.UpstreamId, r.InputTokens, r.CachedTokens, r.OutputTokens, new Money(r.Cost, r.Currency?.ToString()), r.LatencyMs,
            r.TimeToFirstTokenMs, UsageNames.Of(r.Status), UsageNames.Of(r.Source), r.Streamed, r.HttpStatus, r.Error, r.Attempts,
            [.. r.Unserved.Select(u => new UnservedView(u.Provider, u.VendorModel, u.Reason, u.InputTokens, new Money(u.Cost, u.Currency.ToString())))],
            r.ReasoningTokens, r.Price is { } p ? new PriceView(p.Currency.ToString(), p.Input, p.Output, p.CachedInput, p.Reasoning, p.EffectiveFrom)
            {
                PerSecond = p.PerSecond, PerMillionCharacters = p.PerMillionCharacters, PerPage = p.PerPage,
            } : null,
            r.AppId, r.AppVersion, r.EndUser, r.ParentRequestId, r.RunId, r.EvaluationRunId)
            {
                Units = r.Unit is null ? null : r.Units, Unit = r.Unit is { } unit ? Gateway.Catalog.ModelKinds.Name(unit) : null,
            }).ToList();
        return TypedResults.Ok(new UsageResponse(totals, query.Page, query.PageSize, result.Count, records));
    }
}
