using Mulan.Access;
using Mulan.Apps;
using Mulan.Assistant.Runs;

namespace Mulan.Assistant.Schedules;

/// <summary>
/// <c>GET /api/schedules</c>: the schedules of the published assistant apps (as their published version defines them),
/// each with its next occurrence, when it last fired and its latest run — what the console's schedules page shows.
/// Schedules are changed by editing the app (a new version, published); this is the read side.
/// </summary>
public static class ScheduleEndpoints
{
    // How many of an app's latest runs are searched for each schedule's last run.
    private const int RunsSearched = 200;

    public static IEndpointRouteBuilder MapSchedules(this IEndpointRouteBuilder app)
    {
        Caller.RequireCaller(app.MapGroup("/api/schedules"))
            .MapGet("/", ListAsync).WithName("ListSchedules").RequireAccess(WorkspaceRole.Viewer)
            .WithSummary("The schedules of published assistant apps with their next occurrence, last firing and latest run.");
        return app;
    }

    public sealed record ScheduleAppView(string Id, string Slug, string Name, int Version);

    public sealed record ScheduleRunView(string Id, string Status, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt);

    /// <param name="Webhook">whether finished runs are posted to a webhook (its address is not shown: it may carry a token).</param>
    /// <param name="Next">null when the cron expression has no further occurrence or the time zone is unknown here.</param>
    public sealed record ScheduleView(ScheduleAppView App, string Workspace, string Name, string Cron, string TimeZone, string Input, bool Webhook,
        DateTimeOffset? Next, DateTimeOffset? LastFired, ScheduleRunView? LastRun);

    private static async Task<IResult> ListAsync(HttpContext ctx, AppDirectory directory, IRunStore store, TimeProvider time, CancellationToken ct)
    {
        var caller = Caller.Of(ctx);
        var now = time.GetUtcNow();
        var apps = (caller.WorkspaceId is { } ws ? directory.InWorkspace(ws) : directory.All)
            .Where(a => a.Definition.Kind == AppKinds.Assistant && a.Definition.Assistant?.Schedules is { Count: > 0 })
            .OrderBy(a => a.App.WorkspaceId, StringComparer.Ordinal).ThenBy(a => a.App.Slug, StringComparer.Ordinal);
        var views = new List<ScheduleView>();
        foreach (var published in apps)
        {
            var runs = await store.ListAsync(new RunQuery(published.App.WorkspaceId, published.App.Id, null, RunsSearched), ct);
            foreach (var s in published.Definition.Assistant!.Schedules!)
            {
                var zone = ScheduleClock.FindZone(s.TimeZone);
                var next = ScheduleClock.ParseCron(s.Cron).Expression is { } cron && zone is not null ? cron.GetNextOccurrence(now, zone) : null;
                var last = runs.Where(r => r.Origin == RunOrigins.Schedule && r.Schedule == s.Name).MaxBy(r => r.CreatedAt);
                views.Add(new ScheduleView(new ScheduleAppView(published.App.Id, published.App.Slug, published.App.Name, published.Version),
                    published.App.WorkspaceId, s.Name, s.Cron, s.TimeZone ?? "UTC", s.Input, !string.IsNullOrEmpty(s.Webhook?.Url), next,
                    await store.LastFiredAsync(published.App.Id, s.Name, ct),
                    last is null ? null : new ScheduleRunView(last.Id, last.Status, last.CreatedAt, last.EndedAt)));
            }
        }
        return TypedResults.Ok(new { schedules = views });
    }
}
