using System.Diagnostics.Metrics;
using Mulan.Evaluations;
using Mulan.Knowledge;

namespace Mulan.Telemetry;

/// <summary>
/// The depth of the durable work queues, read from storage when scraped (so every node reports the cluster's queue)
/// and kept a few seconds, so that frequent scrapers do not query storage more often than that.
/// </summary>
public sealed partial class QueueMetrics
{
    private static readonly TimeSpan Keep = TimeSpan.FromSeconds(5);
    private readonly IKnowledgeStore _knowledge;
    private readonly IEvaluationStore _evaluations;
    private readonly TimeProvider _time;
    private readonly ILogger<QueueMetrics> _logger;
    private readonly Lock _gate = new();
    private (DateTimeOffset At, int Queued, int Processing, int Evaluations)? _last;

    public QueueMetrics(IMeterFactory meters, IKnowledgeStore knowledge, IEvaluationStore evaluations, TimeProvider time, ILogger<QueueMetrics> logger)
    {
        (_knowledge, _evaluations, _time, _logger) = (knowledge, evaluations, time, logger);
        var meter = meters.Create(GenAiNames.Source);
        meter.CreateObservableGauge("mulan.queue.depth", Depths, "{item}",
            "Work waiting or in progress: documents to ingest (mulan.queue=ingestion, mulan.state=queued|processing) and evaluation runs running (mulan.queue=evaluation).");
    }

    private IEnumerable<Measurement<int>> Depths()
    {
        if (Read() is not { } d)
        {
            yield break; // storage unreachable: no figure rather than a false zero
        }
        yield return new(d.Queued, new("mulan.queue", "ingestion"), new("mulan.state", "queued"));
        yield return new(d.Processing, new("mulan.queue", "ingestion"), new("mulan.state", "processing"));
        yield return new(d.Evaluations, new("mulan.queue", "evaluation"), new("mulan.state", "running"));
    }

    private (DateTimeOffset At, int Queued, int Processing, int Evaluations)? Read()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_last is { } last && now - last.At < Keep)
            {
                return last;
            }
            try
            {
                // Gauge callbacks are synchronous; the SQLite provider completes these synchronously anyway.
                var (queued, processing) = _knowledge.CountQueueAsync(CancellationToken.None).GetAwaiter().GetResult();
                var running = _evaluations.RunsAsync(null, null, "running", 10_000, CancellationToken.None).GetAwaiter().GetResult().Count;
                _last = (now, queued, processing, running);
                return _last;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                LogUnavailable(_logger, e);
                return null;
            }
        }
    }

    /// <summary>Creates the gauges when the host starts.</summary>
    internal sealed class Starter(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<QueueMetrics>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue depths could not be read for /metrics")]
    private static partial void LogUnavailable(ILogger logger, Exception e);
}
