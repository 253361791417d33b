using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Mulan.Bench.Hosting;

/// <summary>
/// Which process runs on which core: the system under test (nginx, Mulan, Portkey) alone on CPU 1; this load
/// generator and the fake vendor on CPU 0. Without that split a gateway's overhead is mixed with the cost of
/// generating and answering the load.
/// </summary>
internal static class CorePinning
{
    public const int LoadCpu = 0;
    public const int SystemUnderTestCpu = 1;
    private const string PinnedVariable = "MULAN_BENCH_PINNED";

    public static string? TasksetPath { get; } = Executables.Find("taskset");

    /// <summary>Online CPUs of the machine (not of this process, whose affinity may already be one CPU).</summary>
    public static int OnlineCpus { get; } = CountOnlineCpus();

    public static bool CanPin => TasksetPath is not null && OnlineCpus >= 2;

    /// <summary>What the report says about pinning.</summary>
    public static string Describe(bool pinned) => pinned
        ? $"pinned with taskset: system under test on CPU {SystemUnderTestCpu}; load generator and fake vendor on CPU {LoadCpu}"
        : CanPin ? "not pinned (--no-pin)" : $"not pinned ({(TasksetPath is null ? "taskset not found" : "fewer than 2 CPUs")})";

    /// <summary>This process's allowed CPUs as the kernel lists them, e.g. <c>0</c> or <c>0-1</c>.</summary>
    public static string AllowedCpus()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        return line?["Cpus_allowed_list:".Length..].Trim() ?? "";
    }

    public static bool ShouldReExec(BenchOptions options) =>
        !options.NoPin && CanPin && Environment.GetEnvironmentVariable(PinnedVariable) is null && AllowedCpus() != "0";

    /// <summary>Runs this same program again under <c>taskset -c 0</c> and returns its exit code.</summary>
    public static async Task<int> ReExecPinnedAsync(string[] args)
    {
        var info = new ProcessStartInfo { FileName = TasksetPath!, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(LoadCpu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var host = Environment.ProcessPath!;
        info.ArgumentList.Add(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(CorePinning).Assembly.Location);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment[PinnedVariable] = "1";
        using var child = Process.Start(info)!;

        // Ctrl+C reaches the child too (same process group); stay alive until it has cleaned up.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            // Passed on so the pinned run cleans up its own children (no P/Invoke needed for one signal).
            using var kill = Process.Start("kill", ["-TERM", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        });
        await child.WaitForExitAsync();
        return child.ExitCode;
    }

    private static int CountOnlineCpus()
    {
        // Format "0-1" or "0,2-3"; the affinity-independent view of the machine.
        try
        {
            var text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
            return text.Split(',').Sum(range =>
            {
                var ends = range.Split('-');
                return ends.Length == 2 ? int.Parse(ends[1], System.Globalization.CultureInfo.InvariantCulture) - int.Parse(ends[0], System.Globalization.CultureInfo.InvariantCulture) + 1 : 1;
            });
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return Environment.ProcessorCount;
        }
    }
}
