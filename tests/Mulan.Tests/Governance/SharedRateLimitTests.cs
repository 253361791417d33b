using System.Net;
using System.Net.Http.Json;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>Rate limits shared by several Mulan instances through Redis: one limit, not one per instance.</summary>
public sealed class SharedRateLimitTests
{
    [RedisFact]
    public async Task Two_instances_sharing_redis_admit_the_limit_once_between_them()
    {
        await using var redis = await RedisServer.StartAsync();
        var data = Directory.CreateTempSubdirectory("mulan-shared-").FullName;
        await using var first = await MulanHost.StartAsync(dataDirectory: data, configure: b => b.Configuration["Governance:Redis"] = redis.Configuration);
        var key = await first.CreateKeyAsync(new { name = "shared", rpm = 10 });
        // A second instance over the same database (the same keys), as a replica behind a load balancer would be.
        await using var second = await MulanHost.StartAsync(dataDirectory: data, vendor: null, configure: b => b.Configuration["Governance:Redis"] = redis.Configuration);

        var intoMinute = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 60_000;
        if (intoMinute > 50_000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(60_000 - intoMinute + 100));
        }
        using var one = first.Client(key);
        using var two = second.Client(key);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? one : two).PostAsJsonAsync("v1/chat/completions",
                new { model = "chat", messages = new[] { new { role = "user", content = $"hi {i}" } } });
            return response.StatusCode;
        }));
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(30, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [RedisFact]
    public async Task An_unreachable_redis_refuses_limited_requests_rather_than_admit_them_uncounted()
    {
        await using var redis = await RedisServer.StartAsync();
        var configuration = redis.Configuration;
        await redis.DisposeAsync();
        await using var host = await MulanHost.StartAsync(configure: b => b.Configuration["Governance:Redis"] = configuration + ",connectTimeout=500,syncTimeout=500,asyncTimeout=500");
        using var limited = host.Client(await host.CreateKeyAsync(new { name = "limited", rpm = 10 }));
        using var response = await limited.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("rate_limit_unavailable", await response.Content.ReadAsStringAsync());
        Assert.Empty(host.Vendor.Ledger.Bills);
        // A key without limits does not depend on Redis.
        using var free = host.Client(await host.CreateKeyAsync(new { name = "free" }));
        using var ok = await free.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
