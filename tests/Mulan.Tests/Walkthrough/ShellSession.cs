using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Mulan.Tests.Walkthrough;

/// <summary>What one block printed.</summary>
public sealed record BlockResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs shell blocks one after another as a user would in one terminal: each block in <c>bash -euo pipefail</c>, in
/// the same folder, with the variables the earlier blocks exported. A line that starts the server is run the way a
/// second terminal would hold it: in the background, its output in <c>serve.log</c>; the session waits until the
/// server says it is running, and stops it when disposed.
/// </summary>
public sealed partial class ShellSession(string folder) : IAsyncDisposable
{
    private readonly string _environment = Path.Combine(folder, ".walkthrough-env.sh");
    private readonly List<int> _servers = [];

    public string Folder => folder;
    public string ServerLog => Path.Combine(folder, "serve.log");

    [GeneratedRegex(@"^(?<command>\./bin/mulan serve\b[^\n]*)$", RegexOptions.Multiline)]
    private static partial Regex ServeLine();

    public async Task<BlockResult> RunAsync(string block, TimeSpan timeout)
    {
        var starts = ServeLine().IsMatch(block);
        var script = ServeLine().Replace(block, m => $"setsid {m.Groups["command"].Value} > serve.log 2>&1 < /dev/null & echo $! > serve.pid");
        var text = $"""
            set -euo pipefail
            if [ -f '{_environment}' ]; then source '{_environment}'; fi
            {script}
            export -p > '{_environment}'
            """;
        var info = new ProcessStartInfo("bash") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(text);
        // A user's shell: none of the test host's Mulan or MSBuild settings (a nested `dotnet publish` must not
        // inherit the test run's build server and SDK paths).
        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("MULAN_", StringComparison.Ordinal) || name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("VSTEST", StringComparison.Ordinal) || name == "DOTNET_HOST_PATH")
            {
                info.Environment.Remove(name);
            }
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"The block did not finish within {timeout}:\n{block}");
            }
        }
        var result = new BlockResult(process.ExitCode, await stdout, await stderr);
        if (starts)
        {
            _servers.Add(int.Parse((await File.ReadAllTextAsync(Path.Combine(folder, "serve.pid"))).Trim(), System.Globalization.CultureInfo.InvariantCulture));
            await WaitForServerAsync();
        }
        return result;
    }

    /// <summary>A variable as the blocks so far left it.</summary>
    public async Task<string?> VariableAsync(string name)
    {
        var text = File.Exists(_environment) ? await File.ReadAllTextAsync(_environment) : "";
        var m = Regex.Match(text, $"^declare -x {Regex.Escape(name)}=\"(?<value>[^\"]*)\"$", RegexOptions.Multiline);
        return m.Success ? m.Groups["value"].Value : null;
    }

    private async Task WaitForServerAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var log = File.Exists(ServerLog) ? await File.ReadAllTextAsync(ServerLog) : "";
            if (log.Contains("is running.", StringComparison.Ordinal) && log.Contains("encoder", StringComparison.Ordinal))
            {
                return;
            }
            if (_servers.Count > 0 && !IsAlive(_servers[^1]))
            {
                throw new InvalidOperationException($"The server stopped:\n{log}");
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The server did not start: " + await File.ReadAllTextAsync(ServerLog));
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            return !Process.GetProcessById(pid).HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pid in _servers)
        {
            try
            {
                using var server = Process.GetProcessById(pid);
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
                // already gone
            }
        }
    }
}
