using System.Globalization;

namespace Mulan.Bench.Hosting;

/// <summary>USER_HZ, the unit of /proc/stat and /proc/PID/stat times: 100 on every mainstream Linux, but asked, not assumed.</summary>
internal static class ClockTicks
{
    private static readonly Lazy<double> Value = new(() =>
        double.TryParse(Shell.Output("getconf", "CLK_TCK"), NumberStyles.Float, CultureInfo.InvariantCulture, out var hz) && hz > 0 ? hz : 100);

    public static double PerSecond => Value.Value;
}
