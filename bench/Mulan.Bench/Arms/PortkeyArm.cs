using Mulan.Bench.Hosting;

namespace Mulan.Bench.Arms;

/// <summary>
/// The Portkey open-source gateway (Node.js, Hono) as the real peer, pointed at the fake vendor per request with
/// <c>x-portkey-custom-host</c>. Optional: when it cannot be installed or started, the arm is skipped with the reason.
/// </summary>
internal static class PortkeyArm
{
    public static async Task<(ArmTarget? Target, string? Skipped)> StartAsync(string folder, int vendorPort, Progress progress, CancellationToken ct)
    {
        var (script, skipped) = await PortkeyInstall.EnsureAsync(folder, progress, ct);
        if (script is null)
        {
            return (null, skipped);
        }

        var port = FreePort.Next();
        var process = ChildProcess.Start("portkey", Executables.Find("node")!, [script, $"--port={port}", "--headless"],
            cpu: CorePinning.SystemUnderTestCpu, workingDirectory: folder,
            environment: new Dictionary<string, string> { ["NODE_ENV"] = "production" });
        if (!await PortProbe.WaitListeningAsync(port, process, TimeSpan.FromSeconds(30), ct))
        {
            var tail = process.Tail();
            await process.DisposeAsync();
            return (null, $"portkey did not start listening on {port}: {tail}");
        }

        var headers = new KeyValuePair<string, string>[]
        {
            new("x-portkey-provider", "openai"),
            new("x-portkey-custom-host", $"http://127.0.0.1:{vendorPort}/v1"),
        };
        var target = new ArmTarget(ArmKind.Portkey, new Uri($"http://127.0.0.1:{port}/v1/chat/completions"), FakeVendorArm.ApiKey,
            w => w.VendorModel(), headers, process);
        return (target, null);
    }
}
