using System.Diagnostics;

namespace Mulan.Bench.Hosting;

/// <summary>Runs a short command for the report's machine facts (versions, git state); null when it cannot.</summary>
internal static class Shell
{
    public static string? Output(string file, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            // nginx -v writes to stderr; git and node to stdout.
            var text = (stdout.Result + stderr.Result).Trim();
            return process.ExitCode == 0 && text.Length > 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
