using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Access;
using Mulan.Apps;
using Mulan.Gateway.Catalog;
using Mulan.Governance.Currencies;
using Mulan.Hosting.Problems;

namespace Mulan.Gateway.Metering;

/// <summary>
/// <c>GET /api/usage/summary</c>: what the console's overview charts: requests, errors, tokens, cost and latency p95 per
/// provider, model, app, key, hour or day, read from the hourly rollups (their size grows with hours and keys, not with
/// requests). Windows are whole hours: <c>from</c> is rounded down and <c>to</c> up to the hour. Latency p95 is given for
/// the window and for each hour or day; per provider, model, app or key it is null.
/// </summary>
public static class UsageSummaryEndpoints
{
    /// <summary>The longest window (about 13 months) and the most points a by-hour series returns (31 days).</summary>
    public const int MaxWindowHours = 400 * 24;
    public const int MaxHourPoints = 31 * 24;
    private const long HourMs = 3_600_000;

    public static RouteGroupBuilder MapUsageSummary(this RouteGroupBuilder api)
    {
        api.MapGet("/usage/summary", (string? workspace, DateTimeOffset? from, DateTimeOffset? to, string? by, string? currency, string? timeZone,
                IUsageStore store, IAccessStore access, IAppStore apps, ExchangeRates rates, TimeProvider time, CancellationToken ct) =>
                SummarizeAsync(workspace, null, from, to, by, currency, timeZone, store, access, apps, rates, time, ct))
            .WithName("UsageSummary").WithSummary("Requests, errors, tokens, cost and latency p95 per provider, model, app, key, hour or day.");
        return api;
    }

    /// <summary><c>GET /api/workspaces/{workspace}/usage/summary</c>: the same, for one workspace.</summary>
    public static RouteGroupBuilder MapWorkspaceUsageSummary(this RouteGroupBuilder scope)
    {
        scope.MapGet("/usage/summary", (HttpContext ctx, DateTimeOffset? from, DateTimeOffset? to, string? by, string? currency, string? timeZone,
                IUsageStore store, IAccessStore access, IAppStore apps, ExchangeRates rates, TimeProvider time, CancellationToken ct) =>
                SummarizeAsync(null, WorkspaceScope.Of(ctx).Id, from, to, by, currency, timeZone, store, access, apps, rates, time, ct))
            .WithName("WorkspaceUsageSummary").WithSummary("One workspace's usage summary; its own virtual keys may read it.");
        return scope;
    }

    public sealed record Money(decimal Amount, string Currency);

    /// <param name="Unconverted">costs in another currency for which no exchange rate was known at their time.</param>
    public sealed record Figures(long Requests, long Errors, double ErrorRate, long InputTokens, long OutputTokens, Money Cost,
        IReadOnlyList<Money> Unconverted, double? LatencyP95Ms);

    /// <param name="Key">the provider, model, app id, key id, hour start (ISO 8601) or day (yyyy-MM-dd); null for records with none (e.g. no app).</param>
    public sealed record Group(string? Key, string Label, long Requests, long Errors, double ErrorRate, long InputTokens, long OutputTokens, Money Cost,
        IReadOnlyList<Money> Unconverted, double? LatencyP95Ms);

    public sealed record SummaryResponse(DateTimeOffset From, DateTimeOffset To, string By, string Currency, string? TimeZone, Figures Totals,
        IReadOnlyList<Group> Groups);

    private static readonly string[] Groupings = ["provider", "model", "app", "key", "hour", "day"];

    private static async Task<Results<Ok<SummaryResponse>, ValidationProblem>> SummarizeAsync(string? workspace, string? scopedWorkspaceId,
        DateTimeOffset? from, DateTimeOffset? to, string? by, string? currency, string? timeZone, IUsageStore store, IAccessStore access,
        IAppStore apps, ExchangeRates rates, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var grouping = by ?? "model";
        if (!Groupings.Contains(grouping, StringComparer.Ordinal))
        {
            errors["by"] = [$"must be one of {string.Join(", ", Groupings)}"];
        }
        Currency? wanted = null;
        if (currency is not null)
        {
            if (Enum.TryParse<Currency>(currency, ignoreCase: false, out var c) && Enum.IsDefined(c))
            {
                wanted = c;
            }
            else
            {
                errors["currency"] = ["must be CNY or USD"];
            }
        }
        var zone = TimeZoneInfo.Utc;
        if (timeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out zone!))
        {
            errors["timeZone"] = ["must be an IANA time zone, e.g. Asia/Shanghai"];
            zone = TimeZoneInfo.Utc;
        }
        var end = to ?? time.GetUtcNow();
        var start = from ?? end.AddHours(-24);
        var toHour = (long)Math.Ceiling(end.ToUnixTimeMilliseconds() / (double)HourMs);
        var fromHour = (long)Math.Floor(start.ToUnixTimeMilliseconds() / (double)HourMs);
        if (start >= end)
        {
            errors["to"] = ["must be after from"];
        }
        else if (toHour - fromHour > MaxWindowHours)
        {
            errors["from"] = [$"the window may span at most {MaxWindowHours / 24} days"];
        }
        else if (grouping == "hour" && toHour - fromHour > MaxHourPoints)
        {
            errors["by"] = [$"by=hour covers at most {MaxHourPoints / 24} days; use by=day"];
        }
        var workspaceId = scopedWorkspaceId ?? await access.ResolveAsync(workspace, errors, ct);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var storeGrouping = grouping switch
        {
            "provider" => UsageGrouping.Provider,
            "model" => UsageGrouping.Model,
            "app" => UsageGrouping.App,
            "key" => UsageGrouping.Key,
            _ => UsageGrouping.Hour,
        };
        var book = rates.Current;
        var windowStart = DateTimeOffset.FromUnixTimeMilliseconds(fromHour * HourMs);
        var windowEnd = DateTimeOffset.FromUnixTimeMilliseconds(toHour * HourMs);
        var query = new UsageSummaryQuery(workspaceId, fromHour, toHour, storeGrouping);
        var rows = await store.SummarizeAsync(query, ct);
        // Latency is kept per hour and workspace: its p95 is given for the window and for each hour or day, not per key or model.
        var timeSeries = storeGrouping == UsageGrouping.Hour;
        var latency = await store.LatencyAsync(query, timeSeries, ct);
        var histograms = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var overall = new long[LatencyHistogram.Count];
        foreach (var l in latency)
        {
            overall[l.Bucket] += l.Requests;
            if (l.Hour is { } hour && GroupKey(hour.ToString(System.Globalization.CultureInfo.InvariantCulture), grouping, zone) is { } key)
            {
                (histograms.TryGetValue(key, out var h) ? h : histograms[key] = new long[LatencyHistogram.Count])[l.Bucket] += l.Requests;
            }
        }
        // Without a currency asked for, costs are shown in the one most requests were priced in.
        var target = wanted?.ToString() ?? rows.Where(r => r.Currency.Length > 0).GroupBy(r => r.Currency)
            .OrderByDescending(g => g.Sum(r => r.Requests)).Select(g => g.Key).FirstOrDefault() ?? nameof(Currency.CNY);

        var labels = await LabelsAsync(storeGrouping, workspaceId, access, apps, ct);
        var groups = rows.GroupBy(r => GroupKey(r.Group, grouping, zone))
            .Select(g => Summarize(g.Key, g, target, book, windowEnd, grouping, labels, g.Key is { } k ? histograms.GetValueOrDefault(k) : null))
            .OrderByDescending(g => grouping is "hour" or "day" ? 0 : g.Requests).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        var total = Summarize(null, rows, target, book, windowEnd, grouping, labels, overall);
        return TypedResults.Ok(new SummaryResponse(windowStart, windowEnd, grouping, target, grouping == "day" ? zone.Id : null,
            new Figures(total.Requests, total.Errors, total.ErrorRate, total.InputTokens, total.OutputTokens, total.Cost, total.Unconverted, total.LatencyP95Ms),
            groups));
    }

    /// <summary>The group a rollup row belongs to: hours become ISO instants, or local dates for by=day.</summary>
    private static string? GroupKey(string stored, string grouping, TimeZoneInfo zone)
    {
        if (grouping is "hour" or "day")
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(stored, System.Globalization.CultureInfo.InvariantCulture) * HourMs);
            return grouping == "hour"
                ? at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)
                : TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        }
        return stored.Length == 0 ? null : stored;
    }

    private static Group Summarize(string? key, IEnumerable<UsageSummaryRow> rows, string target, ExchangeRateBook book, DateTimeOffset end,
        string grouping, IReadOnlyDictionary<string, string> labels, long[]? latency)
    {
        long requests = 0, failed = 0, input = 0, output = 0;
        decimal cost = 0;
        var unconverted = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            requests += r.Requests;
            failed += r.Errors;
            input += r.InputTokens;
            output += r.OutputTokens;
            if (r.Currency.Length == 0 || r.Cost == 0)
            {
                continue;
            }
            // Hourly groups convert at their own hour; other groups span the window and convert at its end.
            var at = grouping is "hour" or "day"
                ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(r.Group, System.Globalization.CultureInfo.InvariantCulture) * HourMs)
                : end;
            if (book.Convert(r.Cost, r.Currency, target, at) is { } converted)
            {
                cost += converted;
            }
            else
            {
                unconverted[r.Currency] = unconverted.GetValueOrDefault(r.Currency) + r.Cost;
            }
        }
        var label = key is null ? (grouping == "app" ? "(no app)" : "") : labels.GetValueOrDefault(key, key);
        return new Group(key, label, requests, failed, requests == 0 ? 0 : Math.Round((double)failed / requests, 4), input, output,
            new Money(decimal.Round(cost, 9), target), [.. unconverted.Select(u => new Money(u.Value, u.Key))],
            latency is not null && LatencyHistogram.Quantile(latency, 0.95) is { } p95 ? Math.Round(p95, 1) : null);
    }

    /// <summary>Names for key and app ids (the console shows names; ids stay the group keys).</summary>
    private static async Task<IReadOnlyDictionary<string, string>> LabelsAsync(UsageGrouping by, string? workspaceId, IAccessStore access, IAppStore apps,
        CancellationToken ct) => by switch
        {
            UsageGrouping.Key => (await access.ListKeysAsync(workspaceId, ct)).ToDictionary(k => k.Id, k => k.Name, StringComparer.Ordinal),
            UsageGrouping.App => (await apps.ListAsync(workspaceId, ct)).ToDictionary(a => a.Id, a => a.Name, StringComparer.Ordinal),
            _ => new Dictionary<string, string>(),
        };
}
