using System.Globalization;
using Microsoft.Extensions.Options;
using Mulan.Hosting;

namespace Mulan.Pilots;

/// <summary>The <c>Pilots</c> section.</summary>
public sealed class PilotOptions
{
    public const string Section = "Pilots";

    /// <summary>How often the ledgers of pilots not closed are read to raise alerts that nobody's read raised yet.</summary>
    public double AlertCheckSeconds { get; set; } = 300;

    internal TimeSpan AlertCheck => TimeSpan.FromSeconds(AlertCheckSeconds);
}

internal sealed class PilotOptionsValidator : IValidateOptions<PilotOptions>
{
    public ValidateOptionsResult Validate(string? name, PilotOptions o) =>
        double.IsFinite(o.AlertCheckSeconds) && o.AlertCheckSeconds is >= 0.05 and <= 86_400
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{PilotOptions.Section}:{nameof(o.AlertCheckSeconds)}: must be from 0.05 to 86400 (got {o.AlertCheckSeconds.ToString(CultureInfo.InvariantCulture)})");
}

/// <summary>
/// Raises pilot alerts as spend grows, not only when someone reads a ledger: every <see cref="PilotOptions.AlertCheckSeconds"/>
/// it reads the ledger of each pilot that is not closed (an alert fires once per kind and threshold, so reading again is harmless).
/// </summary>
public sealed partial class PilotAlertWatcher(IPilotStore store, PilotService pilots, IOptions<PilotOptions> options, IHostApplicationLifetime lifetime,
    ILogger<PilotAlertWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Nothing to watch before the server runs (and a start that fails stops it quietly).
        if (!await lifetime.WaitAsync(stoppingToken))
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.AlertCheck);
        while (await WaitTickAsync(timer, stoppingToken))
        {
            try
            {
                foreach (var pilot in await store.ListAsync(null, stoppingToken))
                {
                    if (pilot.Status != PilotStatuses.Closed && pilot.Alerts.Thresholds.Count > 0)
                    {
                        await pilots.LedgerAsync(pilot, stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Storage trouble: logged, and the next tick tries again.
                LogCheckFailed(logger, e);
            }
        }
    }

    private static async Task<bool> WaitTickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The pilot alert check failed")]
    private static partial void LogCheckFailed(ILogger logger, Exception e);
}
