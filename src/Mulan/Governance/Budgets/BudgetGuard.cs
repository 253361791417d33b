using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Audit;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;

namespace Mulan.Governance.Budgets;

/// <summary>
/// Budgets that hold under concurrency: a request reserves the most it can cost before it is sent, and the
/// reservation is settled to the actual cost when its usage record is written (released if it cost nothing). Admission
/// compares spent + reserved + this estimate with the budget atomically (<see cref="IBudgetAccounts"/>: in this process,
/// or in Redis for several nodes), so concurrent requests cannot together overshoot by more than what an estimate can be
/// wrong by. Spent is loaded from the ledger when an account is first used in a period, so a restart does not forget
/// what was spent.
/// </summary>
public sealed partial class BudgetGuard(IUsageStore store, IBudgetAccounts accounts, AuditLog audit, IOptions<GovernanceOptions> options,
    IOptions<Gateway.GatewayOptions> gateway, TimeProvider time, ILogger<BudgetGuard> logger)
{
    /// <summary>What a budget belongs to: a key, a whole workspace (all its keys), or an app (every model call made for it).</summary>
    /// <param name="TargetType"><c>key</c>, <c>workspace</c> or <c>app</c>.</param>
    public sealed record Scope(string TargetType, string TargetId, string WorkspaceId)
    {
        public static Scope Of(VirtualKey key) => new("key", key.Id, key.WorkspaceId);

        public static Scope Of(Workspace workspace) => new("workspace", workspace.Id, workspace.Id);

        public static Scope OfApp(string appId, string workspaceId) => new("app", appId, workspaceId);

        public UsageQuery Spending(DateTimeOffset from) => TargetType switch
        {
            "key" => new UsageQuery(TargetId, null, null, from, null, 1, 1),
            "app" => new UsageQuery(null, WorkspaceId, null, from, null, 1, 1, TargetId),
            _ => new UsageQuery(null, TargetId, null, from, null, 1, 1),
        };
    }

    /// <summary>An admitted request's hold on a budget, in the budget's currency.</summary>
    public sealed record Reservation(Scope Scope, DateTimeOffset Start, decimal Estimate, KeyBudget Budget, string Id);

    /// <summary>Where a budget stands: what is spent and what admitted requests hold, in its currency.</summary>
    public sealed record Standing(decimal Spent, decimal Reserved);

    private static BudgetAccount AccountOf(Scope scope, KeyBudget budget, DateTimeOffset start) =>
        new($"{scope.TargetType}:{scope.TargetId}:{budget.Period.ToString().ToLowerInvariant()}:{start.ToUnixTimeSeconds()}");

    /// <summary>Reserves <paramref name="estimate"/> on a budget; null when it does not fit (nothing is held then).</summary>
    /// <param name="convert">turns a ledger amount into the budget's currency (records may be priced in another).</param>
    /// <exception cref="BudgetStoreUnavailableException">the shared store cannot be reached (the request is refused).</exception>
    public async Task<(Reservation? Held, Standing Standing)> TryReserveAsync(Scope scope, KeyBudget budget, decimal estimate,
        Func<decimal, Currency, decimal> convert, CancellationToken ct)
    {
        var start = PeriodStart(budget.Period, time.GetUtcNow());
        // A reservation outlives the longest a request may take; after that its node is gone and it is given back.
        var holdFor = TimeSpan.FromSeconds(gateway.Value.TotalDeadlineSeconds + 60);
        var admission = await accounts.TryReserveAsync(AccountOf(scope, budget, start), estimate, budget.Amount, holdFor,
            () => LedgerSpentAsync(scope, start, convert), ct);
        var standing = new Standing(admission.Spent, admission.Reserved);
        if (!admission.Admitted)
        {
            if (admission.FirstRefusal)
            {
                Alert(AuditActions.BudgetExhausted, scope, start, budget, admission.Spent);
            }
            return (null, standing);
        }
        return (new Reservation(scope, start, estimate, budget, admission.ReservationId!), standing);
    }

    /// <summary>Replaces the reservation by what the request actually cost (0 to release it). Never throws: a settlement
    /// the shared store missed is made good from the ledger on the account's next use.</summary>
    public async Task SettleAsync(Reservation reservation, decimal actual)
    {
        var threshold = options.Value.BudgetAlertThreshold;
        var settled = await accounts.SettleAsync(AccountOf(reservation.Scope, reservation.Budget, reservation.Start), reservation.Id, reservation.Estimate,
            actual, threshold > 0 ? threshold * reservation.Budget.Amount : null);
        if (settled.CrossedThreshold)
        {
            Alert(AuditActions.BudgetThresholdReached, reservation.Scope, reservation.Start, reservation.Budget, settled.Spent);
        }
    }

    // Recorded in the audit log, off the request's path: the request that crossed the line is not held up by it.
    private void Alert(string action, Scope scope, DateTimeOffset start, KeyBudget budget, decimal spent)
    {
        var details = new JsonObject
        {
            ["period"] = budget.Period.ToString().ToLowerInvariant(),
            ["periodStart"] = start,
            ["amount"] = budget.Amount,
            ["currency"] = budget.Currency,
            ["spent"] = Math.Round(spent, 9),
            ["threshold"] = options.Value.BudgetAlertThreshold,
        };
        _ = Task.Run(async () =>
        {
            try
            {
                await audit.RecordAsync(new AuditEntry(AuditActor.System, action, scope.TargetType, scope.TargetId, scope.WorkspaceId, details));
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException)
            {
                LogAlertLost(logger, action, scope.TargetId, e);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Budget alert {Action} for {Target} could not be recorded")]
    private static partial void LogAlertLost(ILogger logger, string action, string target, Exception e);

    /// <summary>The start of the budget period that contains <paramref name="now"/> (UTC days and months).</summary>
    public static DateTimeOffset PeriodStart(BudgetPeriod period, DateTimeOffset now) => period switch
    {
        BudgetPeriod.Day => new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero),
        BudgetPeriod.Month => new DateTimeOffset(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero),
        _ => DateTimeOffset.UnixEpoch,
    };

    private async Task<decimal> LedgerSpentAsync(Scope scope, DateTimeOffset start, Func<decimal, Currency, decimal> convert)
    {
        var totals = (await store.QueryAsync(scope.Spending(start), CancellationToken.None)).Totals;
        var spent = 0m;
        foreach (var total in totals)
        {
            if (total.Currency is { } c && total.Cost != 0)
            {
                spent += convert(total.Cost, Enum.Parse<Currency>(c));
            }
        }
        return spent;
    }
}
