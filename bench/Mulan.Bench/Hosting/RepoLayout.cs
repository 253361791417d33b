namespace Mulan.Bench.Hosting;

/// <summary>Where things are in the repository; found by walking up to <c>Mulan.slnx</c>.</summary>
internal sealed record RepoLayout(string Root)
{
    public string MulanProject => Path.Combine(Root, "src", "Mulan");

    public string FakeVendorProject => Path.Combine(Root, "tests", "Mulan.FakeVendor");

    public string MulanOutput => Path.Combine(MulanProject, "bin", "Release", "net10.0");

    public string FakeVendorOutput => Path.Combine(FakeVendorProject, "bin", "Release", "net10.0");

    /// <summary>npm cache for the Portkey gateway (gitignored).</summary>
    public string PortkeyFolder => Path.Combine(Root, "bench", ".portkey");

    public string DefaultReport => Path.Combine(Root, "bench", "results", "latest.md");

    /// <summary>
    /// The retrieval datasets folder: <paramref name="explicitDir"/>, else ../shared/datasets beside the repository; null
    /// (with the place looked in) when it holds no DRCD dev set.
    /// </summary>
    public static string? Datasets(string? explicitDir, string? explicitRoot, out string lookedIn)
    {
        var folder = explicitDir ?? (Find(explicitRoot) is { } repo ? Path.Combine(repo.Root, "..", "shared", "datasets") : null);
        lookedIn = folder ?? "../shared/datasets";
        return folder is not null && File.Exists(Path.Combine(folder, "drcd", "DRCD_dev.json")) ? folder : null;
    }

    public static RepoLayout? Find(string? explicitRoot)
    {
        if (explicitRoot is not null)
        {
            return File.Exists(Path.Combine(explicitRoot, "Mulan.slnx")) ? new RepoLayout(Path.GetFullPath(explicitRoot)) : null;
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Mulan.slnx")))
                {
                    return new RepoLayout(dir.FullName);
                }
            }
        }

        return null;
    }
}
