using System.Collections.Concurrent;

namespace Mulan.Governance.Budgets;

/// <summary>Accounts in this process: one lock per account; what is spent is loaded once per period from the ledger.</summary>
public sealed class InProcessBudgetAccounts : IBudgetAccounts
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Account>>> _accounts = new();

    private sealed class Account
    {
        public decimal Spent;
        public decimal Reserved;
        public bool ThresholdAlerted;
        public bool ExhaustedAlerted;
    }

    public async Task<BudgetAdmission> TryReserveAsync(BudgetAccount account, decimal estimate, decimal budget, TimeSpan holdFor,
        Func<Task<decimal>> ledgerSpent, CancellationToken ct)
    {
        var a = await _accounts.GetOrAdd(account.Key, _ => new Lazy<Task<Account>>(async () => new Account { Spent = await ledgerSpent() })).Value.WaitAsync(ct);
        lock (a)
        {
            if (a.Spent + a.Reserved + estimate > budget)
            {
                var first = !a.ExhaustedAlerted;
                a.ExhaustedAlerted = true;
                return new BudgetAdmission(false, null, a.Spent, a.Reserved, first);
            }
            a.Reserved += estimate;
            // In one process the estimate itself is the reservation: settling gives exactly it back.
            return new BudgetAdmission(true, "", a.Spent, a.Reserved, false);
        }
    }

    public Task<BudgetSettlement> SettleAsync(BudgetAccount account, string reservationId, decimal estimate, decimal actual, decimal? threshold)
    {
        if (!_accounts.TryGetValue(account.Key, out var lazy) || !lazy.IsValueCreated || !lazy.Value.IsCompletedSuccessfully)
        {
            return Task.FromResult(new BudgetSettlement(0, false));
        }
        var a = lazy.Value.Result;
        lock (a)
        {
            a.Reserved -= estimate;
            a.Spent += actual;
            var crossed = threshold is { } t && !a.ThresholdAlerted && a.Spent >= t;
            a.ThresholdAlerted |= crossed;
            return Task.FromResult(new BudgetSettlement(a.Spent, crossed));
        }
    }
}
