namespace Mulan.Knowledge.Ingestion;

/// <summary>Wakes the ingestion workers when a document is queued (they also poll, so a lost wake-up only delays).</summary>
public sealed class IngestionSignal
{
    private readonly SemaphoreSlim _queued = new(0, int.MaxValue);

    public void Notify(int count = 1) => _queued.Release(count);

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _queued.WaitAsync(timeout, ct);
}
