using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Mulan.Assistant.Runs;

/// <summary>A change of a run, as its SSE stream sends it: a new step, or a new status.</summary>
public sealed record RunEvent(string Type, Run Run, RunStep? Step);

/// <summary>
/// Live run events for the subscribers on this node (the SSE endpoint, a streaming chat request). A subscriber that
/// falls behind loses nothing it cannot read back: the store holds every step, and the stream starts from it.
/// </summary>
public sealed class RunEvents
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<RunEvent>, byte>> _subscribers = new(StringComparer.Ordinal);

    public Subscription Subscribe(string runId)
    {
        // Bounded so a stalled client cannot hold memory; a run makes few events, so 1,000 is never reached in practice.
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _subscribers.GetOrAdd(runId, _ => new()).TryAdd(channel, 0);
        return new Subscription(this, runId, channel);
    }

    public void Publish(RunEvent e)
    {
        if (_subscribers.TryGetValue(e.Run.Id, out var channels))
        {
            foreach (var channel in channels.Keys)
            {
                channel.Writer.TryWrite(e);
            }
        }
    }

    public sealed class Subscription(RunEvents hub, string runId, Channel<RunEvent> channel) : IDisposable
    {
        public ChannelReader<RunEvent> Reader => channel.Reader;

        public void Dispose()
        {
            if (hub._subscribers.TryGetValue(runId, out var channels))
            {
                channels.TryRemove(channel, out _);
                if (channels.IsEmpty)
                {
                    hub._subscribers.TryRemove(new KeyValuePair<string, ConcurrentDictionary<Channel<RunEvent>, byte>>(runId, channels));
                }
            }
        }
    }
}
