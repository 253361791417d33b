using System.Diagnostics;
using System.Text.Json;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Arms;

/// <summary>
/// Installs the Portkey gateway from npm into <c>bench/.portkey</c> (gitignored) on first use.
/// </summary>
/// <remarks>
/// <c>@hono/node-server</c> is pinned below 1.14: later versions hand Portkey a response whose headers are
/// immutable, so every streamed request fails with <c>TypeError: immutable</c> in
/// <c>ResponseService.updateHeaders</c> and a 500 "Something went wrong" (Portkey-AI/gateway#1389, #1550).
/// Non-streaming requests work either way; the pin lets the streaming arm run at all.
/// </remarks>
internal static class PortkeyInstall
{
    public const string GatewayVersion = "1.15.2";
    public const string HonoNodeServerVersion = "1.13.8";

    private static readonly string PackageJson = JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["name"] = "mulan-bench-portkey",
        ["private"] = true,
        ["dependencies"] = new Dictionary<string, string> { ["@portkey-ai/gateway"] = GatewayVersion },
        ["overrides"] = new Dictionary<string, string> { ["@hono/node-server"] = HonoNodeServerVersion },
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>The path of <c>start-server.js</c>, or null with the reason Portkey cannot run here.</summary>
    public static async Task<(string? StartScript, string? Skipped)> EnsureAsync(string folder, Progress progress, CancellationToken ct)
    {
        if (Executables.Find("node") is null || Executables.Find("npm") is not { } npm)
        {
            return (null, "node/npm not found (install Node.js 18+ with npm)");
        }

        var script = Path.Combine(folder, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
        var manifest = Path.Combine(folder, "package.json");
        Directory.CreateDirectory(folder);
        if (File.Exists(script) && File.Exists(manifest) && await File.ReadAllTextAsync(manifest, ct) == PackageJson)
        {
            return (script, null);
        }

        progress.Say($"npm install @portkey-ai/gateway@{GatewayVersion} into {folder}");
        await File.WriteAllTextAsync(manifest, PackageJson, ct);
        var info = new ProcessStartInfo(npm) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "install", "--no-audit", "--no-fund", "--loglevel=error" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return (null, "npm install did not finish within 5 minutes");
        }

        var text = (await output) + (await errors);
        return process.ExitCode == 0 && File.Exists(script)
            ? (script, null)
            : (null, $"npm install @portkey-ai/gateway failed (exit {process.ExitCode}): {text.Trim()}");
    }

    /// <summary>What the report must say whenever Portkey is measured.</summary>
    public static IReadOnlyList<string> ReportNotes { get; } =
    [
        $"Portkey runs with @hono/node-server pinned to {HonoNodeServerVersion}: with the version npm picks by default (1.19.x) every streamed "
            + "request fails with `TypeError: immutable` in `ResponseService.updateHeaders` (Portkey-AI/gateway#1389); non-streaming works either way.",
        "Portkey's stream loop (`build/start-server.js`) sleeps 25 ms (`setTimeout`) before it forwards the first event of a stream; the vendor's "
            + "role chunk comes at ≈0 ms and its first delta at 20 ms, so part of that sleep shows in Portkey's added time-to-first-token.",
    ];

    /// <summary>The installed gateway version, for the report.</summary>
    public static string InstalledVersion(string folder)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "node_modules", "@portkey-ai", "gateway", "package.json")));
            return doc.RootElement.GetProperty("version").GetString() ?? "?";
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException)
        {
            return "?";
        }
    }
}
