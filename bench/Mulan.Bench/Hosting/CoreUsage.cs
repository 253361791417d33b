using System.Globalization;

namespace Mulan.Bench.Hosting;

/// <summary>
/// How busy one CPU was between two samples, from /proc/stat. For the load generator's core it tells whether
/// the client side (load generator + fake vendor) or the gateway limited a throughput window.
/// </summary>
internal sealed class CoreUsage
{
    private readonly long _busy;
    private readonly long _total;

    private CoreUsage(long busy, long total)
    {
        _busy = busy;
        _total = total;
    }

    public static CoreUsage Sample(int cpu)
    {
        var prefix = $"cpu{cpu.ToString(CultureInfo.InvariantCulture)} ";
        var line = File.ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        if (line is null)
        {
            return new CoreUsage(0, 0);
        }

        // user nice system idle iowait irq softirq steal ...: idle and iowait are the not-busy ones.
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        return new CoreUsage(total - fields[3] - fields[4], total);
    }

    /// <summary>Busy share (0..1) since <paramref name="earlier"/>; NaN when nothing was counted.</summary>
    public double BusySince(CoreUsage earlier) =>
        _total > earlier._total ? (double)(_busy - earlier._busy) / (_total - earlier._total) : double.NaN;

    public double BusySecondsSince(CoreUsage earlier) => (_busy - earlier._busy) / ClockTicks.PerSecond;

    /// <summary>Wall time between the samples as this CPU counted it.</summary>
    public double SecondsSince(CoreUsage earlier) => (_total - earlier._total) / ClockTicks.PerSecond;
}
