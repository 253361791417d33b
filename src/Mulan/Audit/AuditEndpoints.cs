using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Access;

namespace Mulan.Audit;

public static class AuditEndpoints
{
    public const int MaxPageSize = 1000;

    /// <summary>Maps <c>GET /audit</c> on the admin-only <c>/api</c> group: a virtual key never reads the audit log.</summary>
    public static RouteGroupBuilder MapAudit(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", QueryAsync).WithName("Audit").WithSummary("Administrative changes, newest first, filtered and paged.");
        return api;
    }

    /// <summary><c>GET /api/workspaces/{workspace}/audit</c>: the changes to one workspace, readable by its own keys.</summary>
    public static RouteGroupBuilder MapWorkspaceAudit(this RouteGroupBuilder scope)
    {
        scope.MapGet("/audit", (HttpContext ctx, string? action, string? from, string? to, string? page, string? pageSize,
                IAuditStore store, IAccessStore access, CancellationToken ct) =>
                QueryAsync(WorkspaceScope.Of(ctx).Id, action, from, to, page, pageSize, store, access, ct))
            .WithName("WorkspaceAudit").WithSummary("The administrative changes to one workspace; its own virtual keys may read them.");
        return scope;
    }

    public sealed record EntryView(long Id, DateTimeOffset At, string Actor, string Action, string TargetType, string TargetId, string? Workspace,
        JsonObject? Details);

    public sealed record AuditResponse(IReadOnlyList<EntryView> Entries, int Page, int PageSize, long Count);

    // Every parameter is read as text and parsed here, so a bad value is a validation problem naming that parameter.
    private static async Task<Results<Ok<AuditResponse>, ValidationProblem>> QueryAsync(
        string? workspace, string? action, string? from, string? to, string? page, string? pageSize,
        IAuditStore store, IAccessStore access, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var pageNumber = ParseInt(page, "page", 1, int.MaxValue, 1, errors);
        var size = ParseInt(pageSize, "pageSize", 1, MaxPageSize, 50, errors);
        var fromAt = ParseTime(from, "from", errors);
        var toAt = ParseTime(to, "to", errors);
        if (fromAt is not null && toAt is not null && fromAt >= toAt)
        {
            errors["to"] = ["must be after from"];
        }
        if (action is not null && !AuditActions.All.Contains(action, StringComparer.Ordinal))
        {
            errors["action"] = [$"one of {string.Join(", ", AuditActions.All)}"];
        }
        var workspaceId = await access.ResolveAsync(workspace, errors, ct);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var result = await store.QueryAsync(new AuditQuery(workspaceId, action, fromAt, toAt, pageNumber, size), ct);
        var entries = result.Entries.Select(e => new EntryView(e.Id, e.At, e.Actor, e.Action, e.TargetType, e.TargetId, e.WorkspaceId, e.Details)).ToList();
        return TypedResults.Ok(new AuditResponse(entries, pageNumber, size, result.Count));
    }

    private static int ParseInt(string? text, string name, int min, int max, int fallback, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return fallback;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }
        errors[name] = [max == int.MaxValue ? $"must be a whole number, {min} or more" : $"must be a whole number between {min} and {max}"];
        return fallback;
    }

    /// <summary>ISO 8601; a time without an offset is UTC (the server's zone must not change what a query means).</summary>
    private static DateTimeOffset? ParseTime(string? text, string name, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value;
        }
        errors[name] = ["must be an ISO 8601 date or time, such as 2025-01-31 or 2025-01-31T08:00:00Z"];
        return null;
    }
}
