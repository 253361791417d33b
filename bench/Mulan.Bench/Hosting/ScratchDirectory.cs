namespace Mulan.Bench.Hosting;

/// <summary>A temporary folder for one run (configs, Mulan's data, build snapshots, nginx temp paths); removed at the end.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    /// <param name="parent">Where to create it; null: the system's temp folder.</param>
    public ScratchDirectory(string? parent = null)
    {
        Path = parent is null
            ? Directory.CreateTempSubdirectory("mulan-bench-").FullName
            : Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetFullPath(parent), $"mulan-bench-{Guid.NewGuid():N}")).FullName;
    }

    public string Path { get; }

    public string Sub(string name)
    {
        var dir = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leftovers in /tmp are harmless; a failed cleanup must not hide the report.
        }
    }
}
