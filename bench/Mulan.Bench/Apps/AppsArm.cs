using System.Net.Http.Headers;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Apps;

/// <summary>
/// One thing the apps benchmark calls: the fake vendor, a Mulan model route, a Mulan knowledge-base search or a
/// published app. Each request takes the next of the prebuilt bodies (one per question), so concurrent workers walk
/// through the dataset's questions instead of repeating one.
/// </summary>
internal sealed class AppsArm(string name, Uri url, string apiKey, IReadOnlyList<byte[]> bodies, IReadOnlyList<byte[]>? streamBodies,
    ChildProcess? process, string ledger)
{
    private long _next = -1;

    public string Name { get; } = name;

    public Uri Url { get; } = url;

    public AuthenticationHeaderValue Authorization { get; } = new("Bearer", apiKey);

    /// <summary>The process whose CPU time is the arm's cost: Mulan, or for the vendor arm the fake vendor.</summary>
    public ChildProcess? Process { get; } = process;

    /// <summary><c>Full</c> or <c>Normal</c>: the <c>Storage:LedgerSync</c> of the Mulan behind the arm; "—" for the vendor.</summary>
    public string Ledger { get; } = ledger;

    public bool CanStream => streamBodies is not null;

    public byte[] NextBody() => bodies[(int)((ulong)Interlocked.Increment(ref _next) % (ulong)bodies.Count)];

    public byte[] NextStreamBody() => streamBodies![(int)((ulong)Interlocked.Increment(ref _next) % (ulong)streamBodies.Count)];

    public ProcessCpu? SampleCpu() => Process is { HasExited: false } p ? ProcessCpu.Sample(p.Pid) : null;

    public double CpuSecondsSince(ProcessCpu? earlier) => earlier is not null && SampleCpu() is { } now ? now.SecondsSince(earlier) : double.NaN;
}
