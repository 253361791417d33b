using System.Globalization;

namespace Mulan.Bench.Ingestion;

/// <summary>This process's resident memory from /proc/self/status, and the managed heap.</summary>
internal static class ProcessMemory
{
    /// <summary>
    /// Resets the peak resident set size (VmHWM) to the current one, so that each scale reports its own peak rather
    /// than the largest so far. Linux since 4.0; false when the kernel or a sandbox refuses it.
    /// </summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Peak resident set size since the start or the last <see cref="ResetPeak"/>, in MB; NaN if unknown.</summary>
    public static double PeakResidentMegabytes() => StatusKilobytes("VmHWM:") * 1024 / 1e6;

    public static double ResidentMegabytes() => StatusKilobytes("VmRSS:") * 1024 / 1e6;

    /// <summary>Live managed heap after a full, compacting collection, in MB.</summary>
    public static double LiveHeapMegabytes()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true) / 1e6;
    }

    private static double StatusKilobytes(string field)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts is { Length: >= 2 } ? double.Parse(parts[1], CultureInfo.InvariantCulture) : double.NaN;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
