using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Mulan.Bench.Hosting;

namespace Mulan.Bench.Ingestion;

/// <summary>Runs a stage with one worker per core, as the server's ingestion workers do, and times it.</summary>
internal static class Stage
{
    public static int Workers => Environment.ProcessorCount;

    /// <summary>
    /// Runs <paramref name="work"/> for items 0..count-1: <see cref="Workers"/> workers each take the next item until
    /// none is left. The previous stage's garbage is collected first so that it is not charged to this one.
    /// </summary>
    public static async Task<StageResult> MeasureAsync(string stage, int count, long bytes, int chunks, Func<int, CancellationToken, ValueTask> work, CancellationToken ct)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var cpu = Environment.CpuUsage.TotalTime;
        var others = LoadMeter.Start();
        var clock = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(
            async () =>
            {
                int item;
                while ((item = Interlocked.Increment(ref next)) < count)
                {
                    await work(item, ct);
                }
            },
            ct)));
        clock.Stop();
        return new StageResult(stage, count, bytes, chunks, clock.Elapsed, Environment.CpuUsage.TotalTime - cpu, others.Read().OtherCores);
    }

    /// <summary>
    /// Writes every dirty page back to disk (sync(1)) before a stage that fsyncs. On ext4 an fsync can wait for other
    /// files' pending writes: without this, the first commits of a stage would pay for the writes of the stage before
    /// (at ×100, more than a gigabyte of SQLite pages and uploaded files).
    /// </summary>
    public static async Task SettleAsync(CancellationToken ct)
    {
        if (Executables.Find("sync") is not { } sync)
        {
            return;
        }

        using var process = Process.Start(new ProcessStartInfo(sync) { UseShellExecute = false })!;
        await process.WaitForExitAsync(ct);
    }

    /// <summary>
    /// A storage call with the worker's answer to storage trouble: <c>IngestionWorker</c> logs a SQLite or I/O error,
    /// pauses one second and goes on; the benchmark does the same and retries, counting each in <paramref name="retries"/>.
    /// Every call retried here is safe to repeat: a claim that failed claimed nothing, and a completion replaces the
    /// document's chunks.
    /// </summary>
    public static async Task<T> WithRetriesAsync<T>(Func<Task<T>> call, StrongBox<int> retries, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is SqliteException or IOException && attempt < 10)
            {
                Interlocked.Increment(ref retries.Value);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    public static Task<StageResult> Measure(string stage, int count, long bytes, int chunks, Action<int> work, CancellationToken ct) =>
        MeasureAsync(stage, count, bytes, chunks, (i, _) =>
        {
            work(i);
            return ValueTask.CompletedTask;
        }, ct);
}
