using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Mulan.Cluster;

/// <summary>What a change notice is about: each node reloads that part of its in-memory state from the database.</summary>
public static class ClusterTopics
{
    /// <summary>Keys and workspaces (a key revoked on one node is refused on every node).</summary>
    public const string Access = "access";

    /// <summary>Providers, model routes and their prices.</summary>
    public const string Catalog = "catalog";
}

/// <summary>
/// Change notices between nodes over Redis pub/sub: a node that changes keys or the catalog publishes the topic, every
/// other node reloads it from the shared database — within milliseconds, well inside the one second a revoked key may
/// still be honoured elsewhere. After a lost connection comes back, every topic is reloaded (a notice may have been
/// missed). Without Redis (one node) publishing does nothing.
/// </summary>
public sealed partial class ClusterNotices(SharedRedis redis, ILogger<ClusterNotices> logger) : IHostedService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("mulan:changes");

    // Who sent a notice, so that a node does not reload what it has just changed itself.
    private readonly string _node = Access.KeyMaterial.NewId("node");
    private readonly ConcurrentDictionary<string, Func<CancellationToken, Task>> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _reloading = new(StringComparer.Ordinal);
    private CancellationTokenSource _stopping = new();

    /// <summary>Registers how this node reloads a topic (one handler per topic).</summary>
    public void OnChange(string topic, Func<CancellationToken, Task> reload) => _handlers[topic] = reload;

    /// <summary>Tells the other nodes that <paramref name="topic"/> changed in the database. Never throws: a notice that
    /// cannot be sent is logged (the other nodes catch up when their connection to Redis is restored).</summary>
    public async Task PublishAsync(string topic)
    {
        if (!redis.Enabled)
        {
            return;
        }
        try
        {
            await redis.Connection.GetSubscriber().PublishAsync(Channel, $"{topic} {_node}");
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogPublishFailed(logger, topic, e);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!redis.Enabled)
        {
            return;
        }
        _stopping = new CancellationTokenSource();
        var connection = redis.Connection;
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                foreach (var topic in _handlers.Keys)
                {
                    _ = ReloadAsync(topic);
                }
            }
        };
        try
        {
            await connection.GetSubscriber().SubscribeAsync(Channel, (channel, message) =>
            {
                var parts = ((string?)message ?? "").Split(' ', 2);
                if (parts.Length == 2 && parts[1] != _node)
                {
                    _ = ReloadAsync(parts[0]);
                }
            });
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Not reachable at start: the subscription is made when the connection is (ConnectionRestored reloads then).
            LogSubscribeFailed(logger, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    // One reload of a topic at a time; a notice that arrives during one is served by a second run after it.
    private async Task ReloadAsync(string topic)
    {
        if (!_handlers.TryGetValue(topic, out var reload))
        {
            return;
        }
        var gate = _reloading.GetOrAdd(topic, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try
        {
            await reload(_stopping.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogReloadFailed(logger, topic, e);
        }
        finally
        {
            gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A change notice for {Topic} could not be sent to the other nodes")]
    private static partial void LogPublishFailed(ILogger logger, string topic, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to change notices yet; they are received once Redis is reachable")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reloading {Topic} after a change notice failed")]
    private static partial void LogReloadFailed(ILogger logger, string topic, Exception e);
}
