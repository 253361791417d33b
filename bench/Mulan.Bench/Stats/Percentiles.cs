namespace Mulan.Bench.Stats;

/// <summary>Nearest-rank percentiles: a reported p99 is a latency that was actually observed.</summary>
internal static class Percentiles
{
    public static Distribution Of(IEnumerable<double> values)
    {
        var sorted = values.ToArray();
        if (sorted.Length == 0)
        {
            return Distribution.Empty;
        }

        Array.Sort(sorted);
        return new Distribution(sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[^1]);
    }

    /// <summary>The median, or NaN for no values (rendered as "n/a").</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(sorted);
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>The nearest-rank <paramref name="p"/>-quantile (0..1) of values already sorted ascending; NaN when empty.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static double Rank(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>Summary of one set of samples, in the samples' unit (milliseconds throughout).</summary>
internal readonly record struct Distribution(int Count, double P50, double P99, double Max)
{
    public static Distribution Empty { get; } = new(0, double.NaN, double.NaN, double.NaN);
}
