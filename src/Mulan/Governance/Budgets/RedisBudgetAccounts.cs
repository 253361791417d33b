using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Mulan.Governance.Budgets;

/// <summary>
/// Budget accounts in Redis, shared by every node: reserve and settle are Lua scripts, atomic on the server, so a
/// thousand concurrent requests on three nodes overshoot no more than one node's would. Each reservation is kept with
/// an expiry, so one held by a node that died mid-request is given back when the request could no longer be running.
/// Amounts are kept in units of 10⁻⁹ of the budget's currency (exact integers in Redis; compared as doubles, which is
/// exact up to about 9 million currency units).
/// </summary>
public sealed partial class RedisBudgetAccounts(IConnectionMultiplexer redis, TimeProvider time, ILogger<RedisBudgetAccounts> logger) : IBudgetAccounts
{
    private const decimal Scale = 1_000_000_000m;

    // Accounts whose settlement could not reach Redis: the next reservation reloads what is spent from the ledger (which
    // has the record) instead of trusting the shared figure that missed it.
    private readonly ConcurrentDictionary<string, bool> _stale = new();

    // KEYS: account hash (spent, reserved, exhausted, thresholdAlerted), reservation expiries (zset), reservation amounts (hash).
    // ARGV: now ms, estimate, budget, reservation id, expiry ms, key ttl s (0 = none), ledger spent or '', 'init' | 'reload'.
    private const string Reserve = """
        local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
        for _, id in ipairs(expired) do
          local a = redis.call('HGET', KEYS[3], id)
          if a then
            redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(a))
            redis.call('HDEL', KEYS[3], id)
          end
          redis.call('ZREM', KEYS[2], id)
        end
        if ARGV[7] ~= '' then
          if ARGV[8] == 'reload' then
            redis.call('HSET', KEYS[1], 'spent', ARGV[7])
          elseif redis.call('HSETNX', KEYS[1], 'spent', ARGV[7]) == 1 then
            local held = 0
            for _, v in ipairs(redis.call('HVALS', KEYS[3])) do held = held + tonumber(v) end
            redis.call('HSET', KEYS[1], 'reserved', held)
          end
        end
        local spent = redis.call('HGET', KEYS[1], 'spent')
        if not spent then return {-1, 0, 0, 0} end
        spent = tonumber(spent)
        local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
        local estimate = tonumber(ARGV[2])
        if spent + reserved + estimate > tonumber(ARGV[3]) then
          return {0, spent, reserved, redis.call('HSETNX', KEYS[1], 'exhausted', '1')}
        end
        redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
        redis.call('HSET', KEYS[3], ARGV[4], ARGV[2])
        if tonumber(ARGV[6]) > 0 then
          for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
        end
        return {1, spent, reserved + estimate, 0}
        """;

    // ARGV: reservation id, actual cost, threshold (-1 = none).
    private const string Settle = """
        local a = redis.call('HGET', KEYS[3], ARGV[1])
        if a then
          redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(a))
          redis.call('HDEL', KEYS[3], ARGV[1])
          redis.call('ZREM', KEYS[2], ARGV[1])
        end
        if redis.call('HEXISTS', KEYS[1], 'spent') == 0 then return {-1, 0} end
        local spent = redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
        local crossed = 0
        local threshold = tonumber(ARGV[3])
        if threshold >= 0 and spent >= threshold then crossed = redis.call('HSETNX', KEYS[1], 'thresholdAlerted', '1') end
        return {spent, crossed}
        """;

    private static RedisKey[] Keys(BudgetAccount account) =>
        [$"mulan:budget:{account.Key}", $"mulan:budget:{account.Key}:holds", $"mulan:budget:{account.Key}:amounts"];

    private static long Units(decimal amount) => (long)decimal.Round(amount * Scale, MidpointRounding.AwayFromZero);

    private static decimal Amount(RedisResult r) => (long)r / Scale;

    public async Task<BudgetAdmission> TryReserveAsync(BudgetAccount account, decimal estimate, decimal budget, TimeSpan holdFor,
        Func<Task<decimal>> ledgerSpent, CancellationToken ct)
    {
        var id = Access.KeyMaterial.NewId("res");
        var now = time.GetUtcNow();
        var reload = _stale.TryRemove(account.Key, out _);
        string spent = reload ? Units(await ledgerSpent()).ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        for (var attempt = 0; attempt < 2; attempt++)
        {
            RedisResult[] r;
            try
            {
                r = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Reserve, Keys(account),
                [
                    now.ToUnixTimeMilliseconds(), Units(estimate), Units(budget), id, (now + holdFor).ToUnixTimeMilliseconds(),
                    TtlSeconds(account), spent, reload ? "reload" : "init",
                ]))!;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                if (reload)
                {
                    _stale[account.Key] = true;
                }
                throw new BudgetStoreUnavailableException(e);
            }
            switch ((int)r[0])
            {
                case -1:
                    // Not known to Redis yet (or lost): what the ledger says, set only if no other node set it first.
                    spent = Units(await ledgerSpent()).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    continue;
                case 0:
                    return new BudgetAdmission(false, null, Amount(r[1]), Amount(r[2]), (int)r[3] == 1);
                default:
                    return new BudgetAdmission(true, id, Amount(r[1]), Amount(r[2]), false);
            }
        }
        throw new InvalidOperationException("the budget account was set from the ledger and is still unknown");
    }

    public async Task<BudgetSettlement> SettleAsync(BudgetAccount account, string reservationId, decimal estimate, decimal actual, decimal? threshold)
    {
        try
        {
            var r = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Settle, Keys(account),
                [reservationId, Units(actual), threshold is { } t ? Units(t) : -1]))!;
            return (long)r[0] == -1 ? new BudgetSettlement(0, false) : new BudgetSettlement(Amount(r[0]), (long)r[1] == 1);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The record is in the ledger; the shared figure missed it. The reservation expires by itself, and the next
            // reservation on this account reloads what is spent from the ledger.
            _stale[account.Key] = true;
            LogSettleLost(logger, account.Key, e);
            return new BudgetSettlement(0, false);
        }
    }

    // An account outlives its period by a day (a request admitted at 23:59 settles after midnight); a total budget's never expires.
    private long TtlSeconds(BudgetAccount account)
    {
        var parts = account.Key.Split(':');
        var start = DateTimeOffset.FromUnixTimeSeconds(long.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture));
        var end = parts[^2] switch
        {
            "day" => start.AddDays(1),
            "month" => start.AddMonths(1),
            _ => (DateTimeOffset?)null,
        };
        return end is { } e ? (long)Math.Max((e - time.GetUtcNow()).TotalSeconds, 0) + 86_400 : 0;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A budget settlement for {Account} could not reach Redis; the account is reloaded from the ledger on its next use")]
    private static partial void LogSettleLost(ILogger logger, string account, Exception e);
}
