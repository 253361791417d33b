using System.Text.Json.Nodes;
using Mulan.Apps;
using Mulan.Assistant.Runs;

namespace Mulan.Assistant.Schedules;

/// <summary>
/// Starts the scheduled runs of published assistant apps. Each schedule remembers when it last fired; at each tick the
/// latest occurrence since then (if any) starts one run — so after downtime a missed schedule runs once, not once per
/// missed occurrence — unless a run of the same schedule has not ended (no overlapping runs: that occurrence is
/// skipped). A schedule seen for the first time starts counting from then. Finished runs are posted to the schedule's
/// webhook when it has one (see <see cref="ScheduleDelivery"/>).
/// </summary>
public sealed partial class ScheduleRunner(AppDirectory directory, IRunStore store, RunService runs, ILogger<ScheduleRunner> logger)
{
    /// <returns>the runs started.</returns>
    public async Task<IReadOnlyList<Run>> TickAsync(DateTimeOffset now, CancellationToken ct)
    {
        var started = new List<Run>();
        foreach (var app in directory.All.Where(a => a.Definition.Kind == AppKinds.Assistant && a.Definition.Assistant?.Schedules is { Count: > 0 }).ToList())
        {
            foreach (var schedule in app.Definition.Assistant!.Schedules!)
            {
                if (ScheduleClock.ParseCron(schedule.Cron).Expression is not { } cron || ScheduleClock.FindZone(schedule.TimeZone) is not { } zone)
                {
                    continue; // validated when the definition was saved; a time zone the system lost since is skipped
                }
                var last = await store.LastFiredAsync(app.App.Id, schedule.Name, ct);
                if (last is null)
                {
                    await store.SetLastFiredAsync(app.App.Id, schedule.Name, now, ct);
                    continue;
                }
                if (ScheduleClock.LatestDue(cron, zone, last.Value, now) is not { } due)
                {
                    continue;
                }
                // Marked fired before the run starts: a crash in between loses this occurrence rather than running it twice.
                await store.SetLastFiredAsync(app.App.Id, schedule.Name, now, ct);
                if (await store.ScheduleBusyAsync(app.App.Id, schedule.Name, ct))
                {
                    LogSkipped(logger, app.App.Slug, schedule.Name, due);
                    continue;
                }
                var run = await runs.CreateAsync(app, runs.ServiceKey(app.App.WorkspaceId), RunOrigins.Schedule, schedule.Input, schedule.Name, null, null, null, ct);
                runs.StartInBackground(run.Id);
                started.Add(run);
            }
        }
        return started;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {Schedule} of app {App} was due at {Due:O} while its previous run had not ended; skipped")]
    private static partial void LogSkipped(ILogger logger, string app, string schedule, DateTimeOffset due);
}
