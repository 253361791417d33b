using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mulan.Bench.Hosting;
using Mulan.Bench.Stats;

namespace Mulan.Bench.Cli;

/// <summary>
/// How long a client verb takes as a whole process, start to exit: <c>mulan keys list --json</c> against a running
/// server, from the published (ReadyToRun) <c>bin/mulan</c>, from the plain build output run with <c>dotnet</c>, and
/// through <c>dotnet run</c>; beside them curl making the same HTTP call (the floor: no runtime to start) and
/// <c>mulan --version</c> (start-up with no call). Arms take turns within each round, so drift hits all alike.
/// </summary>
internal static class CliStartBenchmark
{
    private const string AdminKey = "mka-bench-cli-start-0123456789abcdef";

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Contains("--quick") ? 7 : 25;
        var repo = RepoLayout.Find(null) ?? throw new BenchException("Run from inside the repository.");
        var progress = new Progress();
        using var scratch = new ScratchDirectory();
        var started = Stopwatch.GetTimestamp();
        var loadAtStart = LoadAverage();

        var published = scratch.Sub("published");
        progress.Say("dotnet publish src/Mulan (ReadyToRun)");
        await RunToEndAsync(Executables.Dotnet(), ["publish", repo.MulanProject, "-o", published, "-nologo", "-v", "quiet"], repo.Root, TimeSpan.FromMinutes(15));
        progress.Say("dotnet build src/Mulan -c Release (JIT)");
        await RunToEndAsync(Executables.Dotnet(), ["build", repo.MulanProject, "-c", "Release", "-nologo", "-v", "quiet"], repo.Root, TimeSpan.FromMinutes(15));
        var binary = Path.Combine(published, "mulan");

        var port = FreePort.Next();
        var url = $"http://127.0.0.1:{port}";
        var env = new Dictionary<string, string> { ["MULAN_ADMIN_KEY"] = AdminKey, ["MULAN_URL"] = url };
        await using var server = ChildProcess.Start("mulan", binary, ["serve", "--urls", url, "--data", scratch.Sub("data")], environment: env);
        if (await server.WaitForLineAsync(l => l.Contains("is running.", StringComparison.Ordinal), TimeSpan.FromSeconds(60), CancellationToken.None) is null)
        {
            throw new BenchException("The server did not start: " + server.Tail());
        }

        var curl = Executables.Find("curl");
        var arms = new List<(string Name, string File, string[] Args, int Every)>
        {
            ("published `bin/mulan keys list --json`", binary, ["keys", "list", "--json"], 1),
            ("`dotnet mulan.dll keys list --json` (JIT)", Executables.Dotnet(), [Path.Combine(repo.MulanOutput, "mulan.dll"), "keys", "list", "--json"], 1),
            ("published `bin/mulan --version`", binary, ["--version"], 1),
            // dotnet run checks the build on every call: seconds, so measured in every fifth round only.
            ("`dotnet run --project src/Mulan -- keys list --json`", Executables.Dotnet(), ["run", "--project", repo.MulanProject, "--", "keys", "list", "--json"], 5),
        };
        if (curl is not null)
        {
            arms.Add(("curl, the same HTTP call (floor)", curl, ["-s", "-o", "/dev/null", "-H", $"Authorization: Bearer {AdminKey}", $"{url}/api/keys"], 1));
        }

        var times = arms.ToDictionary(a => a.Name, _ => new List<double>());
        foreach (var arm in arms)
        {
            await TimeAsync(arm.File, arm.Args, env, repo.Root); // warm-up: disk cache, build check
        }
        for (var round = 0; round < rounds; round++)
        {
            progress.Say($"round {round + 1}/{rounds}");
            foreach (var arm in arms.Where(a => round % a.Every == 0))
            {
                times[arm.Name].Add(await TimeAsync(arm.File, arm.Args, env, repo.Root));
            }
        }

        var report = Report(args, arms.Select(a => a.Name).ToList(), times, curl is not null, Stopwatch.GetElapsedTime(started), loadAtStart);
        System.Console.WriteLine(report);
        var output = Path.Combine(repo.Root, "bench", "results", "cli.md");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, report);
        progress.Say($"written to {Path.GetRelativePath(repo.Root, output)}");
        return 0;
    }

    private static string Report(string[] args, List<string> arms, Dictionary<string, List<double>> times, bool hasCurl, TimeSpan elapsed, string loadAtStart)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine("## CLI start time").AppendLine();
        text.AppendLine(string.Create(inv, $"Command: `dotnet run -c Release --project bench/Mulan.Bench -- {string.Join(' ', args)}`; {Environment.ProcessorCount} cores; {elapsed.TotalSeconds:F0} s; load average {loadAtStart} at the start, {LoadAverage()} at the end."));
        text.AppendLine();
        text.AppendLine("Whole process, start to exit, against a running server on loopback with an empty key list; arms take turns in each round.");
        text.AppendLine();
        text.AppendLine("| arm | runs | median ms | p90 ms | × published |");
        text.AppendLine("| --- | --- | --- | --- | --- |");
        var baseline = Percentiles.Median(times[arms[0]]);
        foreach (var arm in arms)
        {
            var values = times[arm];
            var sorted = values.Order().ToList();
            var p90 = sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(0.9 * sorted.Count) - 1)];
            var median = Percentiles.Median(values);
            text.AppendLine(string.Create(inv, $"| {arm} | {values.Count} | {median:F0} | {p90:F0} | {median / baseline:F2} |"));
        }
        if (hasCurl)
        {
            var floor = Percentiles.Median(times[arms[^1]]);
            text.AppendLine().AppendLine(string.Create(inv, $"The published binary spends {baseline - floor:F0} ms (median) more than curl making the same call: the .NET runtime's start, the command line's parsing and JSON."));
        }
        return text.ToString();
    }

    private static async Task<double> TimeAsync(string file, string[] args, Dictionary<string, string> env, string workingDirectory)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        if (process.ExitCode != 0)
        {
            throw new BenchException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
        return elapsed;
    }

    private static async Task RunToEndAsync(string file, string[] args, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0)
        {
            throw new BenchException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed: {await stderr}{await stdout}");
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
