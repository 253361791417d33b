namespace Mulan.Assistant.Schedules;

/// <summary>Starts scheduled runs of published assistant apps when they are due.</summary>
public sealed class ScheduleRunner
{
    public Task TickAsync(CancellationToken ct) => Task.CompletedTask;
}
