using System.Globalization;

namespace Mulan.Bench.Reporting;

/// <summary>Number formats of the report; NaN (no data) prints as "n/a".</summary>
internal static class Fmt
{
    public static string Ms(double ms) => double.IsNaN(ms) ? "n/a" : ms.ToString(Math.Abs(ms) < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture);

    /// <summary>A difference, always signed: "+0.123".</summary>
    public static string Delta(double ms) => double.IsNaN(ms) ? "n/a" : (ms >= 0 ? "+" : "") + Ms(ms);

    public static string Ratio(double ratio) => double.IsNaN(ratio) || double.IsInfinity(ratio) ? "n/a" : ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×";

    public static string Int(double value) => double.IsNaN(value) ? "n/a" : value.ToString("#,0", CultureInfo.InvariantCulture);

    public static string Us(double microseconds) => double.IsNaN(microseconds) ? "n/a" : microseconds.ToString(microseconds < 100 ? "0.0" : "#,0", CultureInfo.InvariantCulture);

    public static string Pct(double fraction) => double.IsNaN(fraction) ? "n/a" : (fraction * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    /// <summary>An amount of CPU in cores, e.g. "0.35".</summary>
    public static string Cores(double cores) => double.IsNaN(cores) ? "n/a" : cores.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>a / b, NaN when b is not a positive number.</summary>
    public static double Divide(double a, double b) => b > 0 && !double.IsNaN(a) ? a / b : double.NaN;
}
