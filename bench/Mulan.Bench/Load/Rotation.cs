namespace Mulan.Bench.Load;

/// <summary>
/// Arms take turns within a round, starting from a different arm each round, so slow drift on a shared
/// machine (another build, a noisy neighbour) spreads over all arms instead of landing on one.
/// </summary>
internal static class Rotation
{
    public static IEnumerable<T> Of<T>(IReadOnlyList<T> items, int round)
    {
        for (var i = 0; i < items.Count; i++)
        {
            yield return items[(i + round) % items.Count];
        }
    }
}
