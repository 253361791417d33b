namespace Mulan.Governance.RateLimits;

/// <param name="Admitted">the amount was counted (it fit under the limit).</param>
/// <param name="Used">the window's count after this call (without the amount when refused).</param>
public readonly record struct WindowCount(bool Admitted, long Used);

/// <summary>
/// Counters of fixed one-minute windows. In process today; a store shared by several Mulan processes (Redis) fills the
/// same seam, so that limits are not multiplied by the number of replicas.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>Adds <paramref name="amount"/> to the window's counter if the result stays within <paramref name="limit"/>.</summary>
    ValueTask<WindowCount> TryAddAsync(string counter, long window, long amount, long limit);

    /// <summary>Takes back part of an amount counted earlier (a token estimate larger than what was used).</summary>
    ValueTask RefundAsync(string counter, long window, long amount);
}

/// <summary>The shared counters cannot be reached: limited requests are refused rather than admitted uncounted.</summary>
public sealed class RateLimitStoreUnavailableException(Exception inner) : Exception("The rate-limit store is unavailable.", inner);
