using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Mulan.Tests.Support;

/// <summary>Runs the scripts in <c>tests/Mulan.Tests/node</c>, which use the official <c>openai</c> npm package.</summary>
public static class NodeScripts
{
    public static string Folder([CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "node"));

    /// <summary>Runs <paramref name="script"/> with node (installing the package first when it is missing); its exit code and output.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string script, Dictionary<string, string> env)
    {
        var folder = Folder();
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "openai")))
        {
            // .ci/run installs it; a developer's first `dotnet test` does the same here.
            var (installCode, installOutput) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder, []);
            Assert.True(installCode == 0, "npm ci failed: " + installOutput);
        }
        return await RunAsync("node", [script], folder, env);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, string folder, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
