namespace Mulan.Bench.Hosting;

/// <summary>
/// Reads, over a window, how busy the load generator's core was and how much CPU processes other than this
/// benchmark's used. The machine is shared: another build or test run steals the same cores from every arm,
/// and a figure taken while that happened should say so.
/// </summary>
internal sealed class LoadMeter
{
    private readonly CoreUsage[] _cores;
    private readonly ProcessCpu _ours;

    private LoadMeter()
    {
        _cores = [.. Enumerable.Range(0, CorePinning.OnlineCpus).Select(CoreUsage.Sample)];
        _ours = ProcessCpu.Sample(Environment.ProcessId);
    }

    /// <summary>Starts a window. "Ours" is this process and its descendants: the vendor and every gateway.</summary>
    public static LoadMeter Start() => new();

    public LoadReading Read()
    {
        var cores = _cores.Select((before, cpu) => (Before: before, After: CoreUsage.Sample(cpu))).ToArray();
        var wall = cores[0].After.SecondsSince(cores[0].Before);
        var busy = cores.Sum(c => c.After.BusySecondsSince(c.Before));
        var ours = ProcessCpu.Sample(Environment.ProcessId).SecondsSince(_ours);
        return new LoadReading(
            LoadCoreBusy: cores[CorePinning.LoadCpu].After.BusySince(cores[CorePinning.LoadCpu].Before),
            OtherCores: wall > 0 ? Math.Max(0, busy - ours) / wall : double.NaN);
    }
}

/// <param name="LoadCoreBusy">Busy share (0..1) of CPU 0, where the load generator and the fake vendor run.</param>
/// <param name="OtherCores">CPU used by processes outside this benchmark, in cores (0.5 = half a core on average).</param>
internal readonly record struct LoadReading(double LoadCoreBusy, double OtherCores);
