namespace Mulan.Bench.Apps;

/// <summary>Latencies of answered requests (ms) and the failures beside them.</summary>
internal sealed class Samples
{
    public List<double> Ms { get; } = new(4096);

    public int Errors { get; private set; }

    public string? FirstError { get; private set; }

    public void Add(string? error, double ms)
    {
        if (error is null)
        {
            Ms.Add(ms);
        }
        else
        {
            Errors++;
            FirstError ??= error;
        }
    }

    public static Samples Merge(IEnumerable<Samples> parts)
    {
        var all = new Samples();
        foreach (var part in parts)
        {
            all.Ms.AddRange(part.Ms);
            all.Errors += part.Errors;
            all.FirstError ??= part.FirstError;
        }

        return all;
    }

    /// <summary>Nearest-rank quantile of the latencies; NaN when none.</summary>
    public double At(double p)
    {
        var sorted = Ms.Order().ToList();
        return Stats.Percentiles.OfSorted(sorted, p);
    }
}
