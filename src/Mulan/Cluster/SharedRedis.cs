using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Mulan.Cluster;

/// <summary>
/// The one Redis connection of this node, when <c>Storage:Redis</c> (or its older name <c>Governance:Redis</c>) is set:
/// rate-limit counters, budget accounts and change notices share it. Connecting never fails the start; while the
/// server cannot be reached, what depends on it fails closed (limited and budgeted requests get 503).
/// </summary>
public sealed class SharedRedis : IDisposable
{
    private readonly Lazy<IConnectionMultiplexer>? _connection;

    public SharedRedis(IOptions<Governance.GovernanceOptions> options)
    {
        var configuration = options.Value.Redis;
        if (!string.IsNullOrWhiteSpace(configuration))
        {
            _connection = new Lazy<IConnectionMultiplexer>(() =>
            {
                var parsed = ConfigurationOptions.Parse(configuration);
                parsed.AbortOnConnectFail = false;
                return ConnectionMultiplexer.Connect(parsed);
            });
        }
    }

    public bool Enabled => _connection is not null;

    public IConnectionMultiplexer Connection => (_connection ?? throw new InvalidOperationException("Storage:Redis is not set")).Value;

    public void Dispose()
    {
        if (_connection is { IsValueCreated: true })
        {
            _connection.Value.Dispose();
        }
    }
}
