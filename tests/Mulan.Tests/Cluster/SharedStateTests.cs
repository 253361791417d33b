using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Mulan.Access;
using Mulan.Governance.Budgets;
using Mulan.Tests.Governance;
using Mulan.Tests.Support;
using StackExchange.Redis;

namespace Mulan.Tests.Cluster;

/// <summary>
/// Two nodes over one database and one Redis (<c>Storage:Redis</c>), as replicas behind a load balancer: a key made or
/// revoked on one is known to the other without a restart (change notices), budget accounts are one account between
/// them, a reservation left by a node that died is given back, and with Redis unreachable budgets fail closed.
/// </summary>
public sealed class SharedStateTests
{
    private static readonly object Hi = new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } };

    private static async Task<HttpStatusCode> ChatAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("v1/chat/completions", Hi);
        return response.StatusCode;
    }

    // Polls until the status is the one wanted; the other node has no other way to learn of the change than the notice.
    private static async Task<TimeSpan> UntilAsync(HttpClient client, HttpStatusCode wanted)
    {
        var clock = Stopwatch.StartNew();
        while (await ChatAsync(client) != wanted)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"still not {wanted} after {clock.Elapsed}");
            await Task.Delay(20);
        }
        return clock.Elapsed;
    }

    [RedisFact]
    public async Task A_key_created_or_revoked_on_one_node_is_honoured_or_refused_on_the_other_without_a_restart()
    {
        await using var redis = await RedisServer.StartAsync();
        var data = Directory.CreateTempSubdirectory("mulan-cluster-").FullName;
        await using var first = await MulanHost.StartAsync(dataDirectory: data, configure: b => b.Configuration["Storage:Redis"] = redis.Configuration);
        await using var second = await MulanHost.StartAsync(dataDirectory: data, vendor: null, configure: b => b.Configuration["Storage:Redis"] = redis.Configuration);

        // Made on the first after the second started: the second's key ring did not have it.
        var key = await first.CreateKeyAsync(new { name = "made-on-first" });
        using var viaSecond = second.Client(key);
        await UntilAsync(viaSecond, HttpStatusCode.OK);

        using (var revoked = await first.Admin.DeleteAsync($"api/keys/{first.App.Services.GetRequiredService<AccessService>().Authenticate(key)!.Id}"))
        {
            Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync());
        }
        await UntilAsync(viaSecond, HttpStatusCode.Unauthorized);
        // Stays refused: not a one-off.
        Assert.Equal(HttpStatusCode.Unauthorized, await ChatAsync(viaSecond));

        // The catalog too: a route added on the first is served by the second.
        using (var created = await first.Admin.PostAsJsonAsync("api/models", new
        {
            name = "added-on-first", deployments = new[] { new { provider = "fake", model = "fake-chat", price = new { currency = "USD", input = 1m, output = 1m } } },
        }))
        {
            created.EnsureSuccessStatusCode();
        }
        using var other = second.Client(await second.CreateKeyAsync(new { name = "second's own" }));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await other.PostAsJsonAsync("v1/chat/completions", new { model = "added-on-first", messages = new[] { new { role = "user", content = "hi" } } });
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the second node does not serve the new route: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(20);
        }
    }

    [RedisFact]
    public async Task Two_nodes_reserve_against_one_budget_account()
    {
        await using var redis = await RedisServer.StartAsync();
        var data = Directory.CreateTempSubdirectory("mulan-cluster-").FullName;
        await using var first = await MulanHost.StartAsync(dataDirectory: data, configure: b => b.Configuration["Storage:Redis"] = redis.Configuration);
        await using var second = await MulanHost.StartAsync(dataDirectory: data, vendor: null, configure: b => b.Configuration["Storage:Redis"] = redis.Configuration);
        var secret = await first.CreateKeyAsync(new { name = "budgeted", budget = new { amount = 10m, currency = "USD", period = "month" } });
        var key = first.App.Services.GetRequiredService<AccessService>().Authenticate(secret)!;
        var one = first.App.Services.GetRequiredService<BudgetGuard>();
        var two = second.App.Services.GetRequiredService<BudgetGuard>();
        var scope = BudgetGuard.Scope.Of(key);

        var (a, _) = await one.TryReserveAsync(scope, key.Budget!, 4m, (x, _) => x, default);
        var (b, standing) = await two.TryReserveAsync(scope, key.Budget!, 4m, (x, _) => x, default);
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.Equal(8m, standing.Reserved); // the second node sees the first's hold
        var (refused, full) = await one.TryReserveAsync(scope, key.Budget!, 4m, (x, _) => x, default);
        Assert.Null(refused);
        Assert.Equal(new BudgetGuard.Standing(0m, 8m), full);

        await one.SettleAsync(a!, 1.25m);
        var (c, after) = await two.TryReserveAsync(scope, key.Budget!, 4m, (x, _) => x, default);
        Assert.NotNull(c);
        Assert.Equal(new BudgetGuard.Standing(1.25m, 8m), after);
    }

    [RedisFact]
    public async Task A_reservation_left_unsettled_by_a_node_that_died_is_given_back_when_it_expires()
    {
        await using var redis = await RedisServer.StartAsync();
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var accounts = new RedisBudgetAccounts(connection, TimeProvider.System, NullLogger<RedisBudgetAccounts>.Instance);
        var account = new BudgetAccount($"key:k1:month:{DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeSeconds()}");
        var loads = 0;
        Task<decimal> Ledger() { loads++; return Task.FromResult(2m); }

        var held = await accounts.TryReserveAsync(account, 7m, 10m, TimeSpan.FromSeconds(1), Ledger, default);
        Assert.True(held.Admitted);
        Assert.Equal((2m, 7m), (held.Spent, held.Reserved));
        Assert.False((await accounts.TryReserveAsync(account, 7m, 10m, TimeSpan.FromSeconds(1), Ledger, default)).Admitted);
        await Task.Delay(1300);
        var again = await accounts.TryReserveAsync(account, 7m, 10m, TimeSpan.FromMinutes(5), Ledger, default);
        Assert.True(again.Admitted, "the dead node's hold was given back");
        Assert.Equal((2m, 7m), (again.Spent, again.Reserved));
        Assert.Equal(1, loads); // the ledger is read once; then the shared account is the figure
        // The expired hold settling late does not give back the live one's amount.
        await accounts.SettleAsync(account, held.ReservationId!, 7m, 0.5m, null);
        var standing = await accounts.TryReserveAsync(account, 0m, 10m, TimeSpan.FromMinutes(5), Ledger, default);
        Assert.Equal((2.5m, 7m), (standing.Spent, standing.Reserved));
    }

    [RedisFact]
    public async Task With_redis_unreachable_budgeted_requests_are_refused_and_unbudgeted_ones_served()
    {
        await using var redis = await RedisServer.StartAsync();
        var configuration = redis.Configuration;
        await redis.DisposeAsync();
        await using var host = await MulanHost.StartAsync(configure: b => b.Configuration["Storage:Redis"] = configuration + ",connectTimeout=500,syncTimeout=500,asyncTimeout=500");
        using var budgeted = host.Client(await host.CreateKeyAsync(new { name = "budgeted", budget = new { amount = 5m, currency = "USD", period = "day" } }));
        using var response = await budgeted.PostAsJsonAsync("v1/chat/completions", Hi);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("budget_unavailable", await response.Content.ReadAsStringAsync());
        Assert.Empty(host.Vendor.Ledger.Bills);
        using var free = host.Client(await host.CreateKeyAsync(new { name = "free" }));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(free));
    }
}
