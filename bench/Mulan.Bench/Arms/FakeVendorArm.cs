using Mulan.Bench.Hosting;

namespace Mulan.Bench.Arms;

/// <summary>
/// The fake OpenAI-compatible vendor (tests/Mulan.FakeVendor) as its own process on the load generator's
/// core. Every arm forwards to this one process, so their differences are the gateways' alone.
/// </summary>
internal static class FakeVendorArm
{
    public const string ApiKey = "sk-fake";

    public static async Task<(ArmTarget Direct, int Port)> StartAsync(string dll, CancellationToken ct)
    {
        // stdin held as a pipe: the vendor exits by itself if this benchmark dies without cleaning up.
        var process = ChildProcess.Start("fake vendor", Executables.Dotnet(), [dll, "--port", "0", "--key", ApiKey],
            cpu: CorePinning.LoadCpu, holdStdin: true);
        var line = await process.WaitForLineAsync(l => l.StartsWith("listening http://", StringComparison.Ordinal), TimeSpan.FromSeconds(30), ct);
        if (line is null)
        {
            var tail = process.Tail();
            await process.DisposeAsync();
            throw new BenchException($"the fake vendor did not start:{Environment.NewLine}{tail}");
        }

        var origin = new Uri(line["listening ".Length..].Trim());
        var target = new ArmTarget(ArmKind.Direct, new Uri(origin, "/v1/chat/completions"), ApiKey, w => w.VendorModel(), process: process);
        return (target, origin.Port);
    }
}
