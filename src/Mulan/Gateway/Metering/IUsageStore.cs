using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Metering;

/// <param name="AppId">only records attributed to this app (its requests and the model calls made for them).</param>
public sealed record UsageQuery(string? KeyId, string? WorkspaceId, string? Model, DateTimeOffset? From, DateTimeOffset? To, int Page, int PageSize,
    string? AppId = null)
{
    /// <summary>Only the model calls of this assistant run.</summary>
    public string? RunId { get; init; }

    /// <summary>Only the calls made for this evaluation run (target and judge).</summary>
    public string? EvaluationRunId { get; init; }
}

public sealed record UsageTotal(string? Currency, long Requests, long InputTokens, long CachedTokens, long OutputTokens, decimal Cost);

public sealed record UsagePage(IReadOnlyList<UsageTotal> Totals, long Count, IReadOnlyList<UsageRecord> Records);

/// <summary>What one provider served of one vendor model on one UTC day, in one currency: the ledger's side of a vendor's bill.</summary>
public sealed record BilledDay(DateOnly Day, string VendorModel, Currency Currency, long Requests, long InputTokens, long CachedTokens,
    long OutputTokens, decimal Cost);

/// <summary>What was spent on one UTC day through one model, vendor model and app, in one currency (the raw sum of the records' costs).</summary>
public sealed record AttributedSpend(DateOnly Day, string Model, string? Provider, string? VendorModel, string? AppId, string? Currency, long Requests,
    decimal Cost);

/// <summary>What the usage dashboard groups by (the hour is also how days in a time zone are made).</summary>
public enum UsageGrouping { Provider, Model, App, Key, Hour }

/// <summary>The hours [<paramref name="FromHour"/>, <paramref name="ToHour"/>) since the Unix epoch, of one workspace or all.</summary>
public sealed record UsageSummaryQuery(string? WorkspaceId, long FromHour, long ToHour, UsageGrouping By);

/// <summary>One group's sums in one currency (empty string: records with no cost).</summary>
public sealed record UsageSummaryRow(string Group, string Currency, long Requests, long Errors, long InputTokens, long OutputTokens, decimal Cost);

/// <summary>Requests of one hour (null: the whole window) in one latency bucket (<see cref="LatencyHistogram"/>).</summary>
public sealed record LatencyCount(long? Hour, int Bucket, long Requests);

/// <summary>Storage seam for the usage ledger.</summary>
public interface IUsageStore
{
    /// <summary>Appends records durably in one transaction: when this returns, they survive a crash.</summary>
    Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken ct);

    Task<UsagePage> QueryAsync(UsageQuery query, CancellationToken ct);

    /// <summary>Folds the records committed since the last pass into the hourly rollups; returns how many.</summary>
    Task<long> RollUpAsync(CancellationToken ct);

    /// <summary>Sums of the hourly rollup per group and currency, after folding in every record committed so far.</summary>
    Task<IReadOnlyList<UsageSummaryRow>> SummarizeAsync(UsageSummaryQuery query, CancellationToken ct);

    /// <summary>The latency histogram of the query's window, per hour when <paramref name="perHour"/> (its grouping is ignored).</summary>
    Task<IReadOnlyList<LatencyCount>> LatencyAsync(UsageSummaryQuery query, bool perHour, CancellationToken ct);

    /// <summary>Every record matching the filters (page and page size ignored), newest first, read as it streams.</summary>
    IAsyncEnumerable<UsageRecord> ExportAsync(UsageQuery query, CancellationToken ct);

    /// <summary>The workspace's records with <c>at</c> in [<paramref name="from"/>, <paramref name="to"/>) whose app is one of
    /// <paramref name="appIds"/>, whose key is one of <paramref name="keyIds"/> or whose evaluation run is one of
    /// <paramref name="evaluationRunIds"/> (each record counted once), summed per day, model, vendor model, app and currency.</summary>
    Task<IReadOnlyList<AttributedSpend>> AttributedSpendAsync(string workspaceId, IReadOnlyCollection<string> appIds, IReadOnlyCollection<string> keyIds,
        IReadOnlyCollection<string> evaluationRunIds, DateTimeOffset from, DateTimeOffset to, CancellationToken ct);

    /// <summary>The requests a vendor bills, summed per UTC day, vendor model and currency for one provider, with <c>at</c>
    /// in [<paramref name="from"/>, <paramref name="to"/>): every <c>ok</c> record, and <c>client_aborted</c> or
    /// <c>upstream_error</c> records that carry tokens; never <c>rejected</c> ones.</summary>
    Task<IReadOnlyList<BilledDay>> BilledDaysAsync(string provider, DateTimeOffset from, DateTimeOffset to, CancellationToken ct);
}
