using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Mulan.People;

/// <summary>
/// A fixed one-minute window of sign-in (and invitation-accept) attempts per client address, on the injected clock so
/// that tests can move time. Kept small on purpose: the table is pruned of past windows when it grows.
/// </summary>
public sealed class SignInThrottle(TimeProvider time, IOptions<PeopleOptions> options)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    private sealed class Counter(long window)
    {
        public long Window = window;
        public int Count;
    }

    /// <returns>null when the attempt may go ahead, else how long until the address may try again.</returns>
    public TimeSpan? TryAcquire(HttpContext ctx)
    {
        var address = ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var now = time.GetUtcNow();
        var window = now.Ticks / Window.Ticks;
        if (_counters.Count > PruneAbove)
        {
            foreach (var (k, v) in _counters)
            {
                if (v.Window < window)
                {
                    _counters.TryRemove(k, out _);
                }
            }
        }
        var counter = _counters.GetOrAdd(address, _ => new Counter(window));
        lock (counter)
        {
            if (counter.Window != window)
            {
                counter.Window = window;
                counter.Count = 0;
            }
            if (counter.Count >= options.Value.SignInAttemptsPerMinute)
            {
                return new DateTimeOffset((window + 1) * Window.Ticks, TimeSpan.Zero) - now;
            }
            counter.Count++;
            return null;
        }
    }
}
