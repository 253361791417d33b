namespace Mulan.Gateway.Metering;

public sealed record UsageQuery(string? KeyId, string? WorkspaceId, string? Model, DateTimeOffset? From, DateTimeOffset? To, int Page, int PageSize);

public sealed record UsageTotal(string? Currency, long Requests, long InputTokens, long CachedTokens, long OutputTokens, decimal Cost);

public sealed record UsagePage(IReadOnlyList<UsageTotal> Totals, long Count, IReadOnlyList<UsageRecord> Records);

/// <summary>Storage seam for the usage ledger.</summary>
public interface IUsageStore
{
    /// <summary>Appends records durably in one transaction: when this returns, they survive a crash.</summary>
    Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken ct);

    Task<UsagePage> QueryAsync(UsageQuery query, CancellationToken ct);
}
