namespace Mulan.Governance.Budgets;

/// <summary>One budget's account for one period: what is spent and what admitted requests hold.</summary>
/// <param name="Key">the budget's scope and period start, as one string (<c>key:ID:1764547200</c>).</param>
public sealed record BudgetAccount(string Key);

/// <param name="FirstRefusal">true for the first refusal of the period (the exhausted alert is recorded once).</param>
public readonly record struct BudgetAdmission(bool Admitted, string? ReservationId, decimal Spent, decimal Reserved, bool FirstRefusal);

/// <param name="CrossedThreshold">true for the settlement that first took the spend past the alert threshold this period.</param>
public readonly record struct BudgetSettlement(decimal Spent, bool CrossedThreshold);

/// <summary>Thrown when the shared account store cannot be reached: budgets fail closed.</summary>
public sealed class BudgetStoreUnavailableException(Exception inner) : Exception("The budget store is unavailable.", inner);

/// <summary>
/// Where budget accounts live: in this process (one node) or in Redis (every node of a cluster reserves against one
/// account). Reserving compares spent + reserved + the estimate with the budget atomically.
/// </summary>
public interface IBudgetAccounts
{
    /// <param name="ledgerSpent">what the ledger says was spent this period, in the budget's currency: asked when the
    /// account is not known yet (first use, or the shared store lost it).</param>
    /// <param name="holdFor">how long a reservation may stay unsettled before it is given back (a node that died mid-request).</param>
    Task<BudgetAdmission> TryReserveAsync(BudgetAccount account, decimal estimate, decimal budget, TimeSpan holdFor,
        Func<Task<decimal>> ledgerSpent, CancellationToken ct);

    /// <summary>Replaces the reservation by what the request cost (0 to release it).</summary>
    /// <param name="threshold">the amount whose crossing is alerted, or null for none.</param>
    Task<BudgetSettlement> SettleAsync(BudgetAccount account, string reservationId, decimal estimate, decimal actual, decimal? threshold);
}
