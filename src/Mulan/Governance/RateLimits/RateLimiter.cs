using System.Globalization;

namespace Mulan.Governance.RateLimits;

/// <summary>Requests and tokens per minute, counted in fixed one-minute windows of the store.</summary>
public sealed class RateLimiter(IRateLimitStore store, TimeProvider time)
{
    /// <summary>One limit's state after a check, as the <c>x-ratelimit-*</c> headers tell it.</summary>
    /// <param name="Kind"><c>requests</c> or <c>tokens</c>.</param>
    public sealed record Check(string Kind, string Counter, long Window, long Limit, long Used, bool Admitted, long Amount, TimeSpan Reset)
    {
        public long Remaining => Math.Max(0, Limit - Used);
    }

    public async Task<Check> TryAcquireAsync(string counter, string kind, long limit, long amount)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var window = now / 60_000;
        var count = await store.TryAddAsync(counter, window, amount, limit);
        return new Check(kind, counter, window, limit, count.Used, count.Admitted, amount, TimeSpan.FromMilliseconds(((window + 1) * 60_000) - now));
    }

    /// <summary>Gives back part of what was counted, while its window is still the current one.</summary>
    public ValueTask RefundAsync(Check check, long amount) =>
        amount > 0 && check.Admitted && check.Window == time.GetUtcNow().ToUnixTimeMilliseconds() / 60_000
            ? store.RefundAsync(check.Counter, check.Window, Math.Min(amount, check.Amount))
            : ValueTask.CompletedTask;

    /// <summary>OpenAI's headers: <c>x-ratelimit-limit-requests</c>, <c>-remaining-</c>, <c>-reset-</c> (and the same for tokens).</summary>
    public static void WriteHeaders(IHeaderDictionary headers, Check check)
    {
        headers[$"x-ratelimit-limit-{check.Kind}"] = check.Limit.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-remaining-{check.Kind}"] = check.Remaining.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-reset-{check.Kind}"] = Math.Ceiling(check.Reset.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
    }
}
