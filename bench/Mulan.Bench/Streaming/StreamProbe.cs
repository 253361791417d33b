using System.Diagnostics;
using System.Net;
using Mulan.Bench.Arms;
using Mulan.Bench.Load;

namespace Mulan.Bench.Streaming;

/// <summary>Runs one streamed request and traces it. Failures are recorded on the trace, never thrown.</summary>
internal static class StreamProbe
{
    public static async Task<StreamTrace> RunAsync(LoadClient client, ArmTarget arm, Workload workload, CancellationToken ct)
    {
        var trace = new StreamTrace(Stopwatch.GetTimestamp());
        var buffer = new byte[16 * 1024];
        try
        {
            using var response = await client.OpenStreamAsync(arm, workload, ct);
            trace.Status = (int)response.StatusCode;
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                trace.Error = $"HTTP {(int)response.StatusCode}: {(body.Length > 200 ? body[..200] : body)}";
                return trace;
            }

            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var parser = new SseParser(trace);
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                parser.Feed(buffer.AsSpan(0, read), Stopwatch.GetTimestamp());
            }

            parser.End(Stopwatch.GetTimestamp());
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            trace.Error = "timed out";
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            trace.Error = e.Message;
        }

        return trace;
    }
}
