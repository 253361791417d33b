using Mulan.Bench;
using Mulan.Bench.Hosting;

// Gateway overhead and streaming (docs/quality.md §1–2); with `retrieval` first, retrieval quality and keyword
// index speed (§3); with `ingestion` first, ingestion throughput (§4); with `cli` first, the command line's start time;
// with `apps` first, what a published knowledge-qa app adds over its model route and how many requests/s it serves;
// with `assistant` first, what an assistant run's tool-calling loop costs per step and how many runs/s two cores serve;
// with `evaluations` first, evaluation items/s against direct calls and a pilot report's time at 1k–100k usage records;
// with `speech` first, speech and OCR latency over direct vendor calls, local OCR pages/s and the local round trips' word error rates;
// with `console` first, the console pages' time to first byte and the dashboard's queries over a million usage records;
// with `telemetry` first, what the gateway's metrics add to each request.
// See bench/README.md.
if (args.Length > 0 && args[0] == "retrieval")
{
    return await Mulan.Bench.Retrieval.RetrievalBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "cli")
{
    return await Mulan.Bench.Cli.CliStartBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "apps")
{
    return await Mulan.Bench.Apps.AppsBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "assistant")
{
    return await Mulan.Bench.Assistant.AssistantBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "evaluations")
{
    return await Mulan.Bench.Evaluations.EvaluationsBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "speech")
{
    return await Mulan.Bench.Speech.SpeechBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "console")
{
    return await Mulan.Bench.Dashboard.ConsoleBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "telemetry")
{
    return await Mulan.Bench.Telemetry.TelemetryBenchmark.RunAsync(args);
}

if (args.Length > 0 && args[0] == "ingestion")
{
    return await Mulan.Bench.Ingestion.IngestionBenchmark.RunAsync(args);
}

if (!BenchOptions.TryParse(args, out var options, out var error))
{
    await System.Console.Error.WriteLineAsync(error + Environment.NewLine + BenchOptions.Usage);
    return 2;
}

if (options.Help)
{
    System.Console.WriteLine(BenchOptions.Usage);
    return 0;
}

// The load generator must sit on CPU 0 with all its threads, which only a fresh process under taskset guarantees.
if (CorePinning.ShouldReExec(options))
{
    return await CorePinning.ReExecPinnedAsync(args);
}

return await BenchRun.RunAsync(options);
