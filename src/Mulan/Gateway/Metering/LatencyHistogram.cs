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
    private static readonly double LogRatio = Math.Log(Ratio);

    /// <summary>The bucket a latency falls in (the same rule as <see cref="SqlBucketExpression"/>).</summary>
    public static int Bucket(double latencyMs) =>
        latencyMs < 1 ? 0 : (int)Math.Min(Count - 1, 1 + Math.Floor(Math.Log(latencyMs) / LogRatio));

    /// <summary>The column name of bucket <paramref name="i"/>.</summary>
    public static string Column(int i) => $"l{i:00}";

    /// <summary>A SQL expression for the bucket of <paramref name="latency"/>: one logarithm, not a ladder of comparisons,
    /// because it runs in the ledger's insert trigger for every request.</summary>
    public static string SqlBucketExpression(string latency) =>
        $"CASE WHEN {latency} < 1 THEN 0 ELSE min({Count - 1}, 1 + CAST(floor(ln({latency}) / {LogRatio.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}) AS INTEGER)) END";

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
