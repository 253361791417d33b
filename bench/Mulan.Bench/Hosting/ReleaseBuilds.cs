using System.Diagnostics;

namespace Mulan.Bench.Hosting;

/// <summary>
/// Builds Mulan and the fake vendor in Release (incremental, so cheap when up to date) and copies their
/// outputs into the run's scratch folder. Others rebuild <c>bin/Release</c> while a run is going; the copy
/// keeps every arm of one run on the same binaries.
/// </summary>
internal sealed record ReleaseBuilds(string MulanDll, string FakeVendorDll, IReadOnlyList<string> Notes)
{
    public static async Task<ReleaseBuilds> PrepareAsync(RepoLayout repo, ScratchDirectory scratch, bool build, Progress progress, CancellationToken ct)
    {
        var notes = new List<string>();
        foreach (var (project, output, dll) in new[]
        {
            (repo.MulanProject, repo.MulanOutput, "mulan.dll"),
            (repo.FakeVendorProject, repo.FakeVendorOutput, "Mulan.FakeVendor.dll"),
        })
        {
            if (build)
            {
                progress.Say($"dotnet build {Path.GetRelativePath(repo.Root, project)} -c Release");
                var (ok, tail) = await BuildAsync(project, ct);
                if (!ok)
                {
                    // Someone may be mid-edit; the last good build is still worth measuring, if it is said.
                    var fallback = File.Exists(Path.Combine(output, dll)) ? $"using the existing {dll} from {File.GetLastWriteTimeUtc(Path.Combine(output, dll)):u}" : "no earlier build exists";
                    notes.Add($"`dotnet build {Path.GetRelativePath(repo.Root, project)}` failed; {fallback}.");
                    progress.Say($"build failed: {tail}");
                }
            }

            if (!File.Exists(Path.Combine(output, dll)))
            {
                throw new BenchException($"{Path.Combine(output, dll)} is missing: run `dotnet build {Path.GetRelativePath(repo.Root, project)} -c Release`.");
            }
        }

        var mulan = Snapshot(repo.MulanOutput, scratch.Sub("mulan-bin"));
        var vendor = Snapshot(repo.FakeVendorOutput, scratch.Sub("vendor-bin"));
        notes.Add($"mulan.dll built {File.GetLastWriteTimeUtc(Path.Combine(repo.MulanOutput, "mulan.dll")):u}.");
        return new ReleaseBuilds(Path.Combine(mulan, "mulan.dll"), Path.Combine(vendor, "Mulan.FakeVendor.dll"), notes);
    }

    private static async Task<(bool Ok, string Tail)> BuildAsync(string project, CancellationToken ct)
    {
        var info = new ProcessStartInfo(Executables.Dotnet()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "build", project, "-c", "Release", "-nologo", "-v", "quiet" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var text = (await stdout) + (await stderr);
        var tail = string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));
        return (process.ExitCode == 0, tail);
    }

    private static string Snapshot(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }

        return to;
    }
}
