using System.Collections.Concurrent;

namespace Mulan.Governance.RateLimits;

/// <summary>Window counters in this process: one compare-and-swap per admission, no lock.</summary>
public sealed class InProcessRateLimitStore : IRateLimitStore
{
    private readonly ConcurrentDictionary<(string Counter, long Window), StrongBox> _windows = new();
    private long _lastSweep;

    private sealed class StrongBox
    {
        public long Value;
    }

    public ValueTask<WindowCount> TryAddAsync(string counter, long window, long amount, long limit)
    {
        Sweep(window);
        var box = _windows.GetOrAdd((counter, window), _ => new StrongBox());
        while (true)
        {
            var used = Volatile.Read(ref box.Value);
            if (used + amount > limit)
            {
                return ValueTask.FromResult(new WindowCount(false, used));
            }
            if (Interlocked.CompareExchange(ref box.Value, used + amount, used) == used)
            {
                return ValueTask.FromResult(new WindowCount(true, used + amount));
            }
        }
    }

    public ValueTask RefundAsync(string counter, long window, long amount)
    {
        if (_windows.TryGetValue((counter, window), out var box))
        {
            Interlocked.Add(ref box.Value, -amount);
        }
        return ValueTask.CompletedTask;
    }

    // Windows older than the previous one can no longer be asked about: drop them once a window.
    private void Sweep(long window)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (window <= last || Interlocked.CompareExchange(ref _lastSweep, window, last) != last)
        {
            return;
        }
        foreach (var key in _windows.Keys)
        {
            if (key.Window < window - 1)
            {
                _windows.TryRemove(key, out _);
            }
        }
    }
}
