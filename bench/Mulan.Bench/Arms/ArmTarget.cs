using System.Net.Http.Headers;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Arms;

/// <summary>How to call one arm: URL, credentials, extra headers and a prebuilt body per workload.</summary>
internal sealed class ArmTarget
{
    private readonly byte[][] _bodies;

    public ArmTarget(ArmKind kind, Uri chatUrl, string apiKey, Func<Workload, string> model,
        IReadOnlyList<KeyValuePair<string, string>>? headers = null, ChildProcess? process = null)
    {
        Kind = kind;
        ChatUrl = chatUrl;
        Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        Headers = headers ?? [];
        Process = process;
        _bodies = [.. Enum.GetValues<Workload>().Select(w => w.Body(model(w)))];
    }

    public ArmKind Kind { get; }

    public string Name => Kind.Name();

    public Uri ChatUrl { get; }

    public AuthenticationHeaderValue Authorization { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The process whose CPU time is the arm's cost (the gateway; for direct, the fake vendor).</summary>
    public ChildProcess? Process { get; }

    /// <summary>Why streaming is not measured on this arm, when its stream check failed.</summary>
    public string? StreamingUnavailable { get; private set; }

    public bool CanStream => StreamingUnavailable is null;

    public byte[] Body(Workload workload) => _bodies[(int)workload];

    public void DisableStreaming(string reason) => StreamingUnavailable = reason;

    /// <summary>A CPU-time sample of the arm's process tree, to subtract from a later one.</summary>
    public ProcessCpu? SampleCpu() => Process is { HasExited: false } p ? ProcessCpu.Sample(p.Pid) : null;

    /// <summary>CPU seconds the arm's processes used since <paramref name="earlier"/>; NaN without a process.</summary>
    public double CpuSecondsSince(ProcessCpu? earlier) => earlier is not null && SampleCpu() is { } now ? now.SecondsSince(earlier) : double.NaN;
}
