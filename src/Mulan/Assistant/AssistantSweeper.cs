using Microsoft.Extensions.Options;
using Mulan.Assistant.Runs;
using Mulan.Assistant.Schedules;
using Mulan.Hosting;

namespace Mulan.Assistant;

/// <summary>
/// The assistant's clockwork: at start, fails the runs a stopped server left executing; then, every
/// <see cref="AssistantOptions.SweepSeconds"/>, rejects approvals past their expiry and starts the schedules that are due.
/// </summary>
public sealed partial class AssistantSweeper(RunService runs, ScheduleRunner schedules, IOptions<AssistantOptions> options, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<AssistantSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Runs call this server's own gateway, which answers only once the server listens.
        if (!await lifetime.WaitAsync(stoppingToken))
        {
            return;
        }
        await runs.RecoverAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.Sweep);
        do
        {
            try
            {
                await runs.ExpireDueAsync(stoppingToken);
                await schedules.TickAsync(time.GetUtcNow(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Storage trouble: logged, and the next tick tries again.
                LogSweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// Waits, within the host's shutdown timeout, for the background runs and deliveries: they stop at the next step
    /// once the server is stopping, and the services they use (stores, the local encoder) must outlive them.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!await runs.WaitIdleAsync(cancellationToken))
        {
            LogRunsStillGoing(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background assistant runs were still going when the shutdown timeout ended")]
    private static partial void LogRunsStillGoing(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "The assistant sweep failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception e);
}
