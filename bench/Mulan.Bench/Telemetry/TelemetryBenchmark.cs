using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mulan.Bench.Hosting;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Hosting;
using Mulan.Telemetry;
using OpenTelemetry.Metrics;

namespace Mulan.Bench.Telemetry;

/// <summary>
/// What the gateway's metrics add to one request: <see cref="GatewayMetrics.Observe"/> (called once per usage record,
/// on the request's path) timed in a real server's service container, with the Prometheus exporter's meter provider
/// listening, over records of a few routes and outcomes; beside the loop alone. In process and single-threaded, so the
/// shared machine's noise is small next to a gateway round trip's.
/// </summary>
internal static class TelemetryBenchmark
{
    public const string Usage =
        """
        usage: dotnet run -c Release --project bench/Mulan.Bench -- telemetry [options]
          --quick              fewer records (200,000 instead of 2,000,000 per round)
          --out FILE           report path (default bench/results/telemetry.md)
          -h, --help           this text
        """;

    public static Task<int> RunAsync(string[] args) => ModeOptions.RunModeAsync(args, "telemetry", Usage, false, RunAsync);

    private static async Task<int> RunAsync(ModeOptions options, CancellationToken ct)
    {
        var count = options.Quick ? 200_000 : 2_000_000;
        const int rounds = 7;
        var data = Directory.CreateTempSubdirectory("mulan-bench-telemetry-").FullName;
        try
        {
            var config = Path.Combine(data, "mulan.json");
            await File.WriteAllTextAsync(config, """
                { "providers": [ { "name": "vendor", "kind": "openai", "baseUrl": "http://127.0.0.1:9/v1" } ],
                  "models": [
                    { "name": "chat", "deployments": [ { "provider": "vendor", "model": "gpt-4o-mini", "price": { "currency": "USD", "input": 0.15, "output": 0.6 } } ] },
                    { "name": "chat-cny", "deployments": [ { "provider": "vendor", "model": "qwen-plus", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] } ] }
                """, ct);
            var arguments = new ServeArguments("http://127.0.0.1:0", data, config);
            await using var app = MulanServer.Build(arguments, b => b.Logging.ClearProviders());
            await MulanServer.InitializeAsync(app, arguments, MulanServer.ReadCatalog(config), _ => "mka-bench-telemetry-0123456789", ct);
            _ = app.Services.GetRequiredService<MeterProvider>(); // the listener the Prometheus exporter collects from
            var metrics = app.Services.GetRequiredService<GatewayMetrics>();
            var records = Records();
            var observe = new List<double>();
            var loop = new List<double>();
            var sink = 0L;
            for (var round = 0; round < rounds; round++)
            {
                ct.ThrowIfCancellationRequested();
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < count; i++)
                {
                    metrics.Observe(records[i & 7]);
                }
                observe.Add(Stopwatch.GetElapsedTime(start).TotalNanoseconds / count);
                start = Stopwatch.GetTimestamp();
                for (var i = 0; i < count; i++)
                {
                    sink += records[i & 7].InputTokens;
                }
                loop.Add(Stopwatch.GetElapsedTime(start).TotalNanoseconds / count);
            }
            var scrape = Stopwatch.StartNew();
            var provider = app.Services.GetRequiredService<MeterProvider>();
            provider.ForceFlush();
            scrape.Stop();
            var median = Median(observe) - Median(loop);
            var report = new StringBuilder()
                .AppendLine("# Telemetry cost per request")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"- command: `dotnet run -c Release --project bench/Mulan.Bench -- telemetry {string.Join(' ', options.Raw)}`")
                .AppendLine(CultureInfo.InvariantCulture, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; .NET {Environment.Version}; {Environment.ProcessorCount} CPUs")
                .AppendLine(CultureInfo.InvariantCulture, $"- {rounds} rounds × {count:N0} usage records (8 kinds: 2 routes, ok / upstream error / rejected / streamed, 2 currencies)")
                .AppendLine()
                .AppendLine("| what | ns per request (median of rounds) | rounds (ns) |")
                .AppendLine("| --- | ---: | --- |")
                .AppendLine(CultureInfo.InvariantCulture, $"| `GatewayMetrics.Observe` (5 instruments, up to 7 labels), minus the loop | {median:0} | {string.Join(", ", observe.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))} |")
                .AppendLine(CultureInfo.InvariantCulture, $"| the loop alone | {Median(loop):0.0} | {string.Join(", ", loop.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))} |")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"A collection of every series (what a scrape does besides formatting) took {scrape.Elapsed.TotalMilliseconds:0.0} ms, off the requests' path. (sink {sink % 10})");
            var path = options.OutputPath ?? Path.Combine(RepoLayout.Find(null)?.Root ?? ".", "bench", "results", "telemetry.md");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, report.ToString(), ct);
            System.Console.WriteLine(report);
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    private static UsageRecord[] Records()
    {
        var now = DateTimeOffset.UtcNow;
        UsageRecord Make(string model, string? provider, string? vendorModel, UsageStatus status, int http, bool streamed, Currency? currency) => new()
        {
            RequestId = "req_bench", At = now, WorkspaceId = "ws", KeyId = "key", Endpoint = "chat.completions", Model = model,
            Provider = provider, VendorModel = vendorModel, InputTokens = 120, OutputTokens = streamed ? 64 : 12, Cost = currency is null ? 0 : 0.0001m,
            Currency = currency, LatencyMs = 1.5, TimeToFirstTokenMs = streamed ? 0.8 : null, Status = status, Source = UsageSource.Reported,
            Streamed = streamed, HttpStatus = http,
        };
        return
        [
            Make("chat", "vendor", "gpt-4o-mini", UsageStatus.Ok, 200, false, Currency.USD),
            Make("chat", "vendor", "gpt-4o-mini", UsageStatus.Ok, 200, true, Currency.USD),
            Make("chat-cny", "vendor", "qwen-plus", UsageStatus.Ok, 200, false, Currency.CNY),
            Make("chat-cny", "vendor", "qwen-plus", UsageStatus.Ok, 200, true, Currency.CNY),
            Make("chat", "vendor", "gpt-4o-mini", UsageStatus.UpstreamError, 502, false, Currency.USD),
            Make("chat", null, null, UsageStatus.Rejected, 429, false, null),
            Make("chat", "vendor", "gpt-4o-mini", UsageStatus.Ok, 200, false, Currency.USD),
            Make("chat-cny", "vendor", "qwen-plus", UsageStatus.Ok, 200, false, Currency.CNY),
        ];
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
