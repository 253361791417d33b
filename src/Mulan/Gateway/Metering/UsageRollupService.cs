
namespace Mulan.Gateway.Metering;

/// <summary>
/// Keeps the dashboard's hourly rollups close behind the ledger (every 10 s), so that a summary, which catches up before it
/// reads, rarely has more than a few seconds of records to fold in. At start it folds in whatever the ledger already holds.
/// </summary>
public sealed partial class UsageRollupService(IUsageStore store, TimeProvider time, ILogger<UsageRollupService> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            await PassesAsync(timer, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (or a start that failed): the next start folds in from the same mark.
        }
    }

    private async Task PassesAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        do
        {
            try
            {
                var folded = await store.RollUpAsync(stoppingToken);
                if (folded > 0)
                {
                    RolledUp(folded);
                }
            }
            catch (System.Data.Common.DbException e)
            {
                // The next pass retries from the same mark: nothing is counted twice or lost.
                PassFailed(e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Usage rollup: {Records} records folded in")]
    private partial void RolledUp(long records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage rollup pass failed, retried at the next: {Reason}")]
    private partial void PassFailed(string reason);
}
