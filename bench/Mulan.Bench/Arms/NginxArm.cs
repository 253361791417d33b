using Mulan.Bench.Hosting;

namespace Mulan.Bench.Arms;

/// <summary>Debian's nginx-light with a generated config, forwarding to the fake vendor unchanged.</summary>
internal static class NginxArm
{
    /// <summary>The started arm, or null with the reason it is skipped.</summary>
    public static async Task<(ArmTarget? Target, string? Skipped)> StartAsync(ScratchDirectory scratch, int vendorPort, CancellationToken ct)
    {
        if (Executables.Find("nginx") is not { } nginx)
        {
            return (null, "nginx not found (install with `apt-get install -y nginx-light`)");
        }

        var folder = scratch.Sub("nginx");
        // Workers run as `nobody` when the master is root; they must be able to use the temp folders nginx creates here.
        File.SetUnixFileMode(scratch.Path, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        var port = FreePort.Next();
        var conf = Path.Combine(folder, "nginx.conf");
        await File.WriteAllTextAsync(conf, NginxConfig.Render(folder, port, vendorPort), ct);

        var process = ChildProcess.Start("nginx", nginx, ["-p", folder, "-e", Path.Combine(folder, "error.log"), "-c", conf, "-g", "daemon off;"],
            cpu: CorePinning.SystemUnderTestCpu);
        if (!await PortProbe.WaitListeningAsync(port, process, TimeSpan.FromSeconds(10), ct))
        {
            var log = Path.Combine(folder, "error.log");
            var reason = process.Tail() + (File.Exists(log) ? Environment.NewLine + await File.ReadAllTextAsync(log, ct) : "");
            await process.DisposeAsync();
            return (null, $"nginx did not start: {reason.Trim()}");
        }

        var target = new ArmTarget(ArmKind.Nginx, new Uri($"http://127.0.0.1:{port}/v1/chat/completions"), FakeVendorArm.ApiKey,
            w => w.VendorModel(), process: process);
        return (target, null);
    }
}
