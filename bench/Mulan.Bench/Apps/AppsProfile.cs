using System.Diagnostics;
using System.Globalization;
using Mulan.Bench.Hosting;
using Mulan.Bench.Load;

namespace Mulan.Bench.Apps;

/// <summary>The hottest functions and libraries of Mulan while it serves the app, from <c>perf</c>.</summary>
/// <param name="Symbols">self time share and function, hottest first.</param>
/// <param name="Libraries">self time share and library (JIT-compiled code is the perf map of the process).</param>
/// <param name="Syscalls">per system call counted: calls per app request and per route request at the same concurrency.</param>
internal sealed record AppsProfileResult(int Concurrency, double Seconds, double Rps, IReadOnlyList<(double Share, string Name)> Symbols,
    IReadOnlyList<(double Share, string Name)> Libraries, IReadOnlyList<(string Name, double PerApp, double PerRoute)> Syscalls, string? Unavailable);

/// <summary>
/// Samples Mulan's process with <c>perf record</c> (499 Hz, all its threads) while the app is driven in a closed loop,
/// and counts the system calls that say whether a request waits on the disk or sleeps (<c>perf stat</c>: fsync,
/// fdatasync, nanosleep, futex), once under the app and once under the bare route. Mulan was started with
/// <c>DOTNET_PerfMapEnabled=1</c> and <c>DOTNET_EnableWriteXorExecute=0</c>, so JIT-compiled methods have names.
/// </summary>
internal static class AppsProfile
{
    private const int Concurrency = 32;
    private const int Shown = 30;

    /// <summary>The environment Mulan needs for perf to name its JIT-compiled methods.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["DOTNET_PerfMapEnabled"] = "1",
        // With W^X, JIT code runs from a double-mapped memfd whose addresses the perf map does not cover.
        ["DOTNET_EnableWriteXorExecute"] = "0",
    };

    private static readonly string[] Syscalls = ["fsync", "fdatasync", "clock_nanosleep", "nanosleep", "futex", "pwrite64", "pread64"];

    public static async Task<AppsProfileResult> RunAsync(LoadClient client, AppsArm app, AppsArm route, AppsPlan plan, ScratchDirectory scratch,
        Progress progress, CancellationToken ct)
    {
        var perf = Executables.Find("perf");
        if (perf is null || app.Process is null)
        {
            return new AppsProfileResult(Concurrency, 0, double.NaN, [], [], [], "perf not found");
        }

        progress.Say($"profile: perf record + perf stat on mulan for {plan.ProfileWindow.TotalSeconds:0} s, app at concurrency {Concurrency}");
        var data = Path.Combine(scratch.Path, "apps.perf.data");
        var pid = app.Process.Pid.ToString(CultureInfo.InvariantCulture);
        var seconds = plan.ProfileWindow.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        Dictionary<string, double> appCalls;
        double rps;
        await using (var recorder = ChildProcess.Start("perf", perf, ["record", "-F", "499", "-g", "-p", pid, "-o", data, "--", "sleep", seconds]))
        {
            (appCalls, var answered) = await CountAsync(client, app, perf, pid, seconds, scratch, plan, ct);
            rps = answered / plan.ProfileWindow.TotalSeconds;
            await WaitExitAsync(recorder, ct);
        }

        progress.Say($"profile: perf stat on mulan for {plan.ProfileWindow.TotalSeconds:0} s, route at concurrency {Concurrency}");
        var (routeCalls, routeAnswered) = await CountAsync(client, route, perf, pid, seconds, scratch, plan, ct);
        var appRequests = rps * plan.ProfileWindow.TotalSeconds;
        var syscalls = Syscalls.Select(s => (s, appCalls.GetValueOrDefault(s, double.NaN) / appRequests, routeCalls.GetValueOrDefault(s, double.NaN) / routeAnswered)).ToList();
        if (!File.Exists(data))
        {
            return new AppsProfileResult(Concurrency, plan.ProfileWindow.TotalSeconds, rps, [], [], syscalls, "perf record wrote nothing");
        }

        return new AppsProfileResult(Concurrency, plan.ProfileWindow.TotalSeconds, rps,
            Top(Report(perf, data, "symbol")), Top(Report(perf, data, "dso")), syscalls, null);
    }

    /// <summary>One closed-loop window on <paramref name="arm"/> under <c>perf stat</c>: system calls of Mulan by name, and the requests answered.</summary>
    private static async Task<(Dictionary<string, double> Calls, int Answered)> CountAsync(LoadClient client, AppsArm arm, string perf, string pid, string seconds,
        ScratchDirectory scratch, AppsPlan plan, CancellationToken ct)
    {
        var output = Path.Combine(scratch.Path, $"apps.perf-stat.{Guid.NewGuid():N}.csv");
        var events = string.Join(',', Syscalls.Select(s => "syscalls:sys_enter_" + s));
        await using var counter = ChildProcess.Start("perf stat", perf, ["stat", "-x", ",", "-o", output, "-e", events, "-p", pid, "--", "sleep", seconds]);
        var window = await AppsLoad.ClosedLoopAsync(client, arm, Concurrency, plan.ProfileWindow, ct);
        await WaitExitAsync(counter, ct);
        var calls = new Dictionary<string, double>();
        foreach (var line in File.Exists(output) ? await File.ReadAllLinesAsync(output, ct) : [])
        {
            // value,unit,event,...
            var fields = line.Split(',');
            if (fields.Length > 2 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && fields[2].StartsWith("syscalls:sys_enter_", StringComparison.Ordinal))
            {
                calls[fields[2]["syscalls:sys_enter_".Length..]] = value;
            }
        }

        return (calls, window.Ms.Count);
    }

    private static async Task WaitExitAsync(ChildProcess process, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        while (!process.HasExited && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(100, ct);
        }
    }

    private static string Report(string perf, string data, string sort) =>
        Shell.Output(perf, "report", "-i", data, "--no-children", "--sort", sort, "--stdio", "-g", "none", "--percent-limit", "0.5") ?? "";

    /// <summary>Lines such as <c>  12.34%  [.] Some.Method(...)</c> or <c>  40.00%  libcoreclr.so</c>.</summary>
    private static List<(double, string)> Top(string report) =>
        [.. report.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && l[0] != '#' && l.Contains('%', StringComparison.Ordinal))
            .Select(l => (Share: double.TryParse(l[..l.IndexOf('%', StringComparison.Ordinal)], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN,
                Name: l[(l.IndexOf('%', StringComparison.Ordinal) + 1)..].Trim()))
            .Where(x => !double.IsNaN(x.Share))
            .Select(x => (x.Share, Name: ShortName(x.Name.Split("  ", 2)[0].Trim())))
            .Take(Shown)];

    /// <summary>
    /// <c>[.] instance int32 [mulan] Mulan.X.Y::Method(class ...)[OptimizedTier1]</c> → <c>[.] Mulan.X.Y::Method</c>: the perf map's
    /// IL signatures are longer than a table cell, and the type and method are what says where the time goes.
    /// </summary>
    private static string ShortName(string name)
    {
        var colons = name.IndexOf("::", StringComparison.Ordinal);
        if (colons < 0)
        {
            return name;
        }

        var typeStart = name.LastIndexOf(' ', colons) + 1;
        var methodEnd = name.IndexOf('(', colons);
        var marker = name.StartsWith('[') && name.IndexOf("] ", StringComparison.Ordinal) is var end and > 0 and < 4 ? name[..(end + 2)] : "";
        return marker + name[typeStart..(methodEnd < 0 ? name.Length : methodEnd)];
    }
}
