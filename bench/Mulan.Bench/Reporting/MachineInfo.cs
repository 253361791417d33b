using System.Globalization;
using System.Runtime.InteropServices;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Reporting;

/// <summary>What the report says about where and on what it ran: needed to compare two reports at all.</summary>
internal sealed record MachineInfo(IReadOnlyList<(string Name, string Value)> Facts)
{
    public static MachineInfo Collect(RepoLayout repo, string mulanData, bool pinned, TimeProvider time)
    {
        var facts = new List<(string, string)>
        {
            ("date (UTC)", time.GetUtcNow().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)),
            ("CPU", $"{CpuModel()}, {CorePinning.OnlineCpus} online CPUs (nproc)"),
            ("memory", MemTotal()),
            ("kernel", Read("/proc/sys/kernel/osrelease") ?? "?"),
            ("load average at start", Read("/proc/loadavg") ?? "?"),
            ("pinning", CorePinning.Describe(pinned)),
            (".NET", RuntimeInformation.FrameworkDescription),
            ("mulan", MulanRevision(repo)),
            ("nginx", Shell.Output(Executables.Find("nginx") ?? "nginx", "-v")?.Replace("nginx version: ", "", StringComparison.Ordinal) ?? "not installed"),
            ("node", Shell.Output(Executables.Find("node") ?? "node", "--version") ?? "not installed"),
            ("portkey", File.Exists(Path.Combine(repo.PortkeyFolder, "package.json"))
                ? $"@portkey-ai/gateway {PortkeyInstall.InstalledVersion(repo.PortkeyFolder)} (with @hono/node-server {PortkeyInstall.HonoNodeServerVersion})"
                : "not installed"),
            ("Mulan data folder", $"{mulanData} on {FileSystemOf(mulanData)}"),
        };
        return new MachineInfo(facts);
    }

    public string Render() => string.Concat(Facts.Select(f => $"- {f.Name}: {f.Value}{Environment.NewLine}"));

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";

    private static string MemTotal()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kb = line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return kb > 0 ? $"{kb / 1024.0 / 1024.0:0.0} GiB" : "?";
    }

    /// <summary>The commit, and whether src/Mulan differs from it: others edit it while benchmarks run.</summary>
    private static string MulanRevision(RepoLayout repo)
    {
        var commit = Shell.Output("git", "-C", repo.Root, "rev-parse", "--short", "HEAD") ?? "unknown commit";
        var changes = Shell.Output("git", "-C", repo.Root, "status", "--porcelain", "--", "src/Mulan")?.Split('\n').Length ?? 0;
        return changes == 0 ? $"commit {commit}" : $"commit {commit} + {changes} uncommitted change(s) in src/Mulan";
    }

    /// <summary>Mulan fsyncs each group commit; tmpfs and a disk give different costs, so the report says which.</summary>
    private static string FileSystemOf(string path)
    {
        var mounts = File.ReadLines("/proc/mounts")
            .Select(l => l.Split(' '))
            .Where(f => f.Length > 2 && path.StartsWith(f[1], StringComparison.Ordinal))
            .OrderByDescending(f => f[1].Length)
            .FirstOrDefault();
        return mounts is null ? "?" : $"{mounts[2]} ({mounts[1]})";
    }

    private static string? Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
