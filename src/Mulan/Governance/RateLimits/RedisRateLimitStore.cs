using StackExchange.Redis;

namespace Mulan.Governance.RateLimits;

/// <summary>
/// Window counters in Redis, shared by every Mulan instance that points at the same server, so a limit is one limit
/// and not one per replica. Check and add are one Lua script: atomic on the server, one round trip.
/// </summary>
/// <remarks>The connection is the node's <see cref="Cluster.SharedRedis"/>, which owns it.</remarks>
public sealed class RedisRateLimitStore(IConnectionMultiplexer redis) : IRateLimitStore
{
    // KEYS[1] counter; ARGV[1] amount, ARGV[2] limit, ARGV[3] seconds to keep the window (it outlives its minute a little).
    private const string TryAdd = """
        local used = tonumber(redis.call('GET', KEYS[1]) or '0')
        local amount = tonumber(ARGV[1])
        if used + amount > tonumber(ARGV[2]) then
          return {0, used}
        end
        used = redis.call('INCRBY', KEYS[1], amount)
        redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
        return {1, used}
        """;

    public async ValueTask<WindowCount> TryAddAsync(string counter, long window, long amount, long limit)
    {
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(TryAdd, [Key(counter, window)], [amount, limit, 180]))!;
            return new WindowCount((long)result[0] == 1, (long)result[1]);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new RateLimitStoreUnavailableException(e);
        }
    }

    public async ValueTask RefundAsync(string counter, long window, long amount)
    {
        try
        {
            await redis.GetDatabase().StringDecrementAsync(Key(counter, window), amount);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // A refund that cannot be made leaves the window stricter than it should be, never looser.
        }
    }

    private static RedisKey Key(string counter, long window) => $"mulan:rl:{counter}:{window}";
}
