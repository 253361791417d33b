using System.Globalization;
using Mulan.Bench.Arms;
using Mulan.Bench.Hosting;
using Mulan.Bench.Streaming;

namespace Mulan.Bench.Load;

/// <summary>
/// Brings every arm to steady state before anything is measured: a closed loop at concurrency 16 for a fixed
/// time, then sequential requests and streams so the concurrency-1 and streaming paths are warm too.
/// </summary>
/// <remarks>
/// Time, not a request count, and a long one: .NET and V8 recompile hot code in the background. On its one
/// saturated core Mulan ran tier-0 and PGO-instrumented code for about 40 s of load (perf with
/// DOTNET_PerfMapEnabled: 22% of samples at 23 s, 4% at 38 s, none at 53 s) and its req/s doubled when that
/// ended. The JIT-compiled gateways (Mulan, Portkey) go first with the full time; the fake vendor and this load
/// generator, also .NET, run all through those warm-ups, so direct and nginx (no JIT) then need only a short one.
/// A plateau of req/s is no usable signal on a shared, noisy machine, so durations are fixed (<c>--warmup</c>);
/// the req/s of each window is printed so a run that was still climbing can be seen.
/// </remarks>
internal static class Warmup
{
    private const int Concurrency = 16;
    private const int Streams = 30;

    public static async Task RunAsync(LoadClient client, IReadOnlyList<ArmTarget> arms, BenchPlan plan, Progress progress, CancellationToken ct)
    {
        foreach (var arm in arms.OrderBy(a => IsJitCompiledGateway(a.Kind) ? 0 : 1))
        {
            var duration = IsJitCompiledGateway(arm.Kind) ? plan.WarmupDuration : plan.ShortWarmupDuration;
            var rates = new List<double>();
            for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += plan.WarmupWindow)
            {
                var window = await ClosedLoop.RunAsync(client, arm, Concurrency, plan.WarmupWindow, ct);
                rates.Add(window.LatenciesMs.Count / plan.WarmupWindow.TotalSeconds);
            }

            progress.Say($"warm-up {arm.Name}: {duration.TotalSeconds:0} s at concurrency {Concurrency}; req/s per {plan.WarmupWindow.TotalSeconds:0} s window: "
                + string.Join(' ', rates.Select(r => r.ToString("0", CultureInfo.InvariantCulture))));
            for (var i = 0; i < plan.WarmupRequests; i++)
            {
                await client.ChatAsync(arm, ct);
            }

            for (var i = 0; arm.CanStream && i < Streams; i++)
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                limit.CancelAfter(plan.StreamTimeout);
                await StreamProbe.RunAsync(client, arm, Workload.StreamB, limit.Token);
                ct.ThrowIfCancellationRequested();
            }
        }
    }

    private static bool IsJitCompiledGateway(ArmKind kind) => kind is ArmKind.Mulan or ArmKind.MulanNormalSync or ArmKind.MulanAnthropic or ArmKind.Portkey;
}
