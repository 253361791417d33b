using System.Text.Json;

namespace Mulan.Bench.Arms;

/// <summary>What a request asks for. The fake vendor reads its behaviour from the model name, so each workload
/// is a vendor model (direct, nginx, Portkey) or a Mulan route that maps to it.</summary>
internal enum Workload
{
    /// <summary>Non-streaming chat completion, 12 content tokens.</summary>
    Chat,

    /// <summary>Profile A: a role chunk, 64 content deltas 20 ms apart, a finish chunk, <c>[DONE]</c>.</summary>
    StreamA,

    /// <summary>Profile B: 1,000 content deltas with no delay (per-token cost of the gateway).</summary>
    StreamB,
}

internal static class Workloads
{
    public const int StreamADeltas = 64;
    public const int StreamAGapMs = 20;
    public const int StreamBDeltas = 1000;

    public static string VendorModel(this Workload workload) => workload switch
    {
        Workload.Chat => "fake-chat",
        Workload.StreamA => $"fake-chat+chunks={StreamADeltas}+gap={StreamAGapMs}",
        Workload.StreamB => $"fake-chat+chunks={StreamBDeltas}",
        _ => throw new ArgumentOutOfRangeException(nameof(workload)),
    };

    /// <summary>The Mulan model route configured for the workload (see <see cref="MulanConfig"/>).</summary>
    public static string MulanRoute(this Workload workload) => workload switch
    {
        Workload.Chat => "bench",
        Workload.StreamA => "stream64",
        Workload.StreamB => "stream1000",
        _ => throw new ArgumentOutOfRangeException(nameof(workload)),
    };

    public static bool IsStream(this Workload workload) => workload != Workload.Chat;

    public static int ExpectedDeltas(this Workload workload) => workload switch
    {
        Workload.StreamA => StreamADeltas,
        Workload.StreamB => StreamBDeltas,
        _ => 12,
    };

    /// <summary>The OpenAI request body; serialized once per arm, not per request.</summary>
    public static byte[] Body(this Workload workload, string model) => workload.IsStream()
        ? JsonSerializer.SerializeToUtf8Bytes(new { model, stream = true, messages = new[] { new { role = "user", content = "hi" } } })
        : JsonSerializer.SerializeToUtf8Bytes(new { model, messages = new[] { new { role = "user", content = "hi" } } });
}
