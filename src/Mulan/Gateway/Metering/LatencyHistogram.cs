namespace Mulan.Gateway.Metering;

/// <summary>
/// Latency buckets of the hourly usage rollup. A percentile over a month of records would sort a million latencies
/// on every dashboard load; the rollup instead counts each hour's requests per bucket, so a month is a few thousand
/// rows. Bucket 0 holds latencies under 1 ms; bucket i (1 ≤ i &lt; <see cref="Count"/> − 1) holds [1.25^(i−1), 1.25^i) ms;
/// the last holds everything from 1.25^(Count−2) ms up. A percentile is read as the geometric middle of its bucket,
/// so it is within 12 % of the exact value (half a 25 % bucket) for latencies from 1 ms to 20 minutes.
/// </summary>
public static class LatencyHistogram
{
    public const int Count = 64;
    private const double Ratio = 1.25;

    /// <summary>Upper bound of bucket <paramref name="i"/> in milliseconds (exclusive); infinity for the last.</summary>
    public static double UpperBound(int i) => i >= Count - 1 ? double.PositiveInfinity : Math.Pow(Ratio, i);

    /// <summary>The bucket a latency falls in (the same rule as <see cref="SqlBucketExpression"/>).</summary>
    public static int Bucket(double latencyMs)
    {
        for (var i = 0; i < Count - 1; i++)
        {
            if (latencyMs < UpperBound(i))
            {
                return i;
            }
        }
        return Count - 1;
    }

    /// <summary>The column name of bucket <paramref name="i"/>.</summary>
    public static string Column(int i) => $"l{i:00}";

    /// <summary>A SQL CASE that gives the bucket of <paramref name="latency"/> (SQLite has no log() in every build).</summary>
    public static string SqlBucketExpression(string latency) =>
        "CASE " + string.Concat(Enumerable.Range(0, Count - 1).Select(i =>
            $"WHEN {latency} < {UpperBound(i).ToString("R", System.Globalization.CultureInfo.InvariantCulture)} THEN {i} ")) + $"ELSE {Count - 1} END";

    /// <summary>The latency at quantile <paramref name="q"/> (0–1) of the counts, or null when there are none.</summary>
    public static double? Quantile(IReadOnlyList<long> counts, double q)
    {
        var total = counts.Sum();
        if (total == 0)
        {
            return null;
        }
        // The rank of the q-quantile among the sorted latencies (nearest-rank definition).
        var rank = (long)Math.Ceiling(q * total);
        rank = Math.Max(rank, 1);
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return Middle(i);
            }
        }
        return Middle(counts.Count - 1);
    }

    private static double Middle(int i) => i switch
    {
        0 => 0.5,
        Count - 1 => Math.Pow(Ratio, Count - 2),
        _ => Math.Sqrt(Math.Pow(Ratio, i - 1) * Math.Pow(Ratio, i)),
    };
}
