namespace Mulan.Outbound;

/// <summary>A fetch that took longer than its step allows; the message names the step, the host and the limit.</summary>
public sealed class OutboundTimeoutException(string message) : HttpRequestException(message);

/// <summary>
/// The step one fetch is in, and the clock of that step: each step re-arms the fetch's cancellation with its own limit,
/// so a stall anywhere (DNS, connect, TLS, headers, body) ends the fetch and says where it stalled. The connection
/// callbacks find it on the request that started the connection.
/// </summary>
internal sealed class FetchPhase : IDisposable
{
    public static readonly HttpRequestOptionsKey<FetchPhase> Key = new("mulan.fetch-phase");

    private readonly CancellationTokenSource _cts;
    private readonly string _host;
    private string _step = "";
    private TimeSpan _limit;

    public FetchPhase(string host, CancellationToken caller)
    {
        _host = host;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(caller);
    }

    public CancellationToken Token => _cts.Token;

    public void Enter(string step, TimeSpan limit)
    {
        lock (_cts)
        {
            _step = step;
            _limit = limit;
            _cts.CancelAfter(limit);
        }
    }

    public OutboundTimeoutException TimedOut()
    {
        lock (_cts)
        {
            return new OutboundTimeoutException($"{_step} for '{_host}' did not complete within {_limit.TotalSeconds:0.###} s");
        }
    }

    public void Dispose() => _cts.Dispose();
}
