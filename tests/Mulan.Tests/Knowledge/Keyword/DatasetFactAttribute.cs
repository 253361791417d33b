using System.Runtime.CompilerServices;
using Xunit.Sdk;

namespace Mulan.Tests.Knowledge.Keyword;

/// <summary>
/// A fact that reads the shared retrieval datasets (../shared/datasets from the repository root, see its README;
/// MULAN_DATASETS points elsewhere). Without them the test shows as skipped, with the reason; with
/// MULAN_REQUIRE_DATASETS=1 it runs anyway and fails with a clear message instead.
/// </summary>
public sealed class DatasetFactAttribute : FactAttribute
{
    public DatasetFactAttribute()
    {
        if (Datasets.Root is null && !Datasets.IsRequired)
        {
            Skip = $"retrieval datasets not found ({Datasets.Expected}); set MULAN_REQUIRE_DATASETS=1 to fail instead of skipping";
        }
    }
}

internal static class Datasets
{
    private static readonly Lazy<string?> Found = new(() => Locate());

    /// <summary>The datasets folder, or null when it is absent.</summary>
    public static string? Root => Found.Value;

    public static bool IsRequired => Environment.GetEnvironmentVariable("MULAN_REQUIRE_DATASETS") == "1";

    public static string Expected => "../shared/datasets from the repository root, with drcd/DRCD_dev.json";

    /// <summary>A file under the datasets folder; fails the test when the folder is absent but required.</summary>
    public static string File(params string[] parts) =>
        Path.Combine([Root ?? throw new XunitException($"MULAN_REQUIRE_DATASETS=1 but the datasets were not found ({Expected})"), .. parts]);

    // The repository root is found from this source file's path (where it was compiled) or the test binaries.
    private static string? Locate([CallerFilePath] string sourceFile = "")
    {
        if (Environment.GetEnvironmentVariable("MULAN_DATASETS") is { Length: > 0 } configured)
        {
            return HasDrcd(configured) ? Path.GetFullPath(configured) : null;
        }

        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory })
        {
            for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Mulan.slnx")))
                {
                    var datasets = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets"));
                    return HasDrcd(datasets) ? datasets : null;
                }
            }
        }

        return null;
    }

    private static bool HasDrcd(string folder) => System.IO.File.Exists(Path.Combine(folder, "drcd", "DRCD_dev.json"));
}
