using Cronos;

namespace Mulan.Assistant.Schedules;

/// <summary>Cron expressions with time zones (Cronos, which handles daylight-saving gaps and overlaps the way cron users expect).</summary>
public static class ScheduleClock
{
    /// <summary>Five fields (minute hour day-of-month month day-of-week) or six (seconds first).</summary>
    public static (CronExpression? Expression, string? Error) ParseCron(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 200)
        {
            return (null, "required: a cron expression such as '0 9 * * 1-5' (weekdays at 09:00)");
        }
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            return (null, $"a cron expression has 5 fields (minute hour day month weekday) or 6 (seconds first), not {fields}");
        }
        try
        {
            return (CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard), null);
        }
        catch (CronFormatException e)
        {
            return (null, $"not a valid cron expression: {e.Message}");
        }
    }

    public static TimeZoneInfo? FindZone(string? id)
    {
        if (id is null || id == "UTC")
        {
            return TimeZoneInfo.Utc;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The latest occurrence after <paramref name="after"/> up to and including <paramref name="now"/>, or null
    /// when none: however many were missed (the server was down), the schedule is due once.</summary>
    public static DateTimeOffset? LatestDue(CronExpression cron, TimeZoneInfo zone, DateTimeOffset after, DateTimeOffset now)
    {
        DateTimeOffset? latest = null;
        for (var next = cron.GetNextOccurrence(after, zone); next is { } n && n <= now; next = cron.GetNextOccurrence(n, zone))
        {
            latest = n;
        }
        return latest;
    }
}
