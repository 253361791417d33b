using System.Globalization;

namespace Mulan.Bench.Hosting;

/// <summary>
/// CPU time of a process tree (a gateway and everything it started), read from /proc. Sampled around a
/// measurement it gives the gateway's CPU cost per request or per delta, which stays meaningful even when the
/// load generator, not the gateway, is what limits requests per second.
/// </summary>
/// <remarks>
/// Per-thread run time in nanoseconds (<c>/proc/PID/task/TID/schedstat</c>) where the kernel provides it; the
/// 10 ms ticks of <c>/proc/PID/stat</c> are too coarse for a few hundred short streams. Deltas are taken per
/// thread, so a thread that exits between two samples (a retiring pool thread) takes only its own time with it.
/// </remarks>
internal sealed class ProcessCpu
{
    private readonly Dictionary<(int Pid, int Tid), long> _threadNanoseconds;
    private readonly long _ticks;

    private ProcessCpu(Dictionary<(int, int), long> threadNanoseconds, long ticks)
    {
        _threadNanoseconds = threadNanoseconds;
        _ticks = ticks;
    }

    public static ProcessCpu Sample(int pid)
    {
        var threads = new Dictionary<(int, int), long>();
        var ticks = 0L;
        foreach (var process in Tree(pid))
        {
            ticks += process.Ticks;
            foreach (var task in SafeDirectories($"/proc/{process.Pid}/task"))
            {
                if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid)
                    && TryRead(Path.Combine(task, "schedstat")) is { } text
                    && long.TryParse(text.Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ns))
                {
                    threads[(process.Pid, tid)] = ns;
                }
            }
        }

        return new ProcessCpu(threads, ticks);
    }

    /// <summary>CPU seconds used between <paramref name="earlier"/> and this sample.</summary>
    public double SecondsSince(ProcessCpu earlier)
    {
        var precise = 0L;
        foreach (var (thread, ns) in _threadNanoseconds)
        {
            precise += ns - earlier._threadNanoseconds.GetValueOrDefault(thread);
        }

        // Kernels without schedstat accounting report zeros: fall back to ticks.
        return precise > 0 || _threadNanoseconds.Values.Any(v => v > 0)
            ? precise / 1e9
            : (_ticks - earlier._ticks) / ClockTicks.PerSecond;
    }

    private static List<(int Pid, long Ticks)> Tree(int root)
    {
        var all = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in SafeDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && TryRead(Path.Combine(dir, "stat")) is { } text)
            {
                // Fields after the command name, which may itself contain spaces and parentheses.
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 12)
                {
                    all[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture),
                        long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
                }
            }
        }

        var tree = new List<(int, long)>();
        var pending = new Stack<int>([root]);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            if (all.TryGetValue(current, out var self))
            {
                tree.Add((current, self.Ticks));
            }

            foreach (var (child, _) in all.Where(kv => kv.Value.Parent == current))
            {
                pending.Push(child);
            }
        }

        return tree;
    }

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // the process exited while we looked
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
