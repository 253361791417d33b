namespace Mulan.Gateway.Metering;

/// <summary>Sees every usage record as it is handed to the ledger: exactly once per request.</summary>
public interface IUsageObserver
{
    void Observe(UsageRecord record);
}
