using System.Diagnostics;
using System.Net;
using Mulan.Bench.Load;

namespace Mulan.Bench.Apps;

/// <summary>Requests of the apps benchmark: sequential (concurrency 1), streamed, and a closed loop of C workers.</summary>
internal static class AppsLoad
{
    /// <summary>One non-streaming request, body read in full; null on a 200, otherwise what went wrong.</summary>
    public static async Task<string?> SendAsync(LoadClient client, AppsArm arm, CancellationToken ct)
    {
        try
        {
            using var response = await client.PostAsync(arm.Url, arm.Authorization, arm.NextBody(), HttpCompletionOption.ResponseContentRead, ct);
            return response.StatusCode == HttpStatusCode.OK ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (HttpRequestException e)
        {
            return e.Message;
        }
    }

    public static async Task<Samples> SequentialAsync(LoadClient client, AppsArm arm, int count, CancellationToken ct)
    {
        var samples = new Samples();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var error = await SendAsync(client, arm, ct);
            samples.Add(error, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return samples;
    }

    /// <summary>C workers, each sending its next request when the last is answered, until the deadline; answers after it are not counted.</summary>
    public static async Task<Samples> ClosedLoopAsync(LoadClient client, AppsArm arm, int concurrency, TimeSpan duration, CancellationToken ct)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await Task.Yield(); // all workers start before the first one sends
            var samples = new Samples();
            while (Stopwatch.GetTimestamp() < end)
            {
                var start = Stopwatch.GetTimestamp();
                var error = await SendAsync(client, arm, ct);
                var done = Stopwatch.GetTimestamp();
                if (error is not null || done <= end)
                {
                    samples.Add(error, (done - start) * 1000.0 / Stopwatch.Frequency);
                }
            }

            return samples;
        }));
        return Samples.Merge(workers);
    }

    /// <summary>
    /// Sequential streamed requests: time to the first non-empty content delta and to the end of the stream. A stream
    /// that does not end with <c>[DONE]</c> is an error.
    /// </summary>
    public static async Task<(Samples FirstToken, Samples Total)> StreamsAsync(LoadClient client, AppsArm arm, int count, CancellationToken ct)
    {
        var first = new Samples();
        var total = new Samples();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            double? firstToken = null;
            string? error = null;
            try
            {
                using var response = await client.PostAsync(arm.Url, arm.Authorization, arm.NextStreamBody(), HttpCompletionOption.ResponseHeadersRead, ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    error = $"HTTP {(int)response.StatusCode}";
                }
                else
                {
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
                    var done = false;
                    while (await reader.ReadLineAsync(ct) is { } line)
                    {
                        firstToken ??= HasContent(line) ? Stopwatch.GetElapsedTime(start).TotalMilliseconds : null;
                        done |= line == "data: [DONE]";
                    }

                    error = done && firstToken is not null ? null : "stream ended without content or [DONE]";
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                error = e.Message;
            }

            total.Add(error, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            first.Add(error, firstToken ?? double.NaN);
        }

        return (first, total);
    }

    /// <summary>A chunk with a non-empty content delta (the app's and the vendor's role chunks carry <c>"content":""</c>).</summary>
    private static bool HasContent(string line) =>
        line.StartsWith("data: {", StringComparison.Ordinal) && line.Contains("\"content\":\"", StringComparison.Ordinal)
        && !line.Contains("\"content\":\"\"", StringComparison.Ordinal);
}
