using System.Globalization;

namespace Mulan.Bench.Hosting;

/// <summary>
/// CPU time (user + system) a process and all its descendants have used, from /proc. Sampled around a
/// measurement window it gives the gateway's CPU cost per request, which stays meaningful even when the
/// load generator (not the gateway) is what limits requests per second.
/// </summary>
internal static class ProcessCpu
{
    private static readonly Lazy<double> TicksPerSecond = new(ReadClockTicks);

    /// <summary>Seconds of CPU used so far by <paramref name="pid"/> and its live descendants; 0 if it is gone.</summary>
    public static double Seconds(int pid)
    {
        var stats = ReadAll();
        var total = 0L;
        var pending = new Stack<int>([pid]);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            if (stats.TryGetValue(current, out var s))
            {
                total += s.Ticks;
            }

            foreach (var (child, _) in stats.Where(kv => kv.Value.Parent == current))
            {
                pending.Push(child);
            }
        }

        return total / TicksPerSecond.Value;
    }

    private static Dictionary<int, (int Parent, long Ticks)> ReadAll()
    {
        var result = new Dictionary<int, (int, long)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // Fields after the command name, which may itself contain spaces and parentheses.
                var text = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                result[pid] = (parent, ticks);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // A process that exited while we looked.
            }
        }

        return result;
    }

    private static double ReadClockTicks()
    {
        // USER_HZ; 100 on every mainstream Linux, but ask rather than assume.
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })!;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var hz) && hz > 0 ? hz : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}
