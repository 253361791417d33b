using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>Requests and tokens per minute per key, under concurrency, with OpenAI's headers.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    // The limits count fixed one-minute windows: a burst is started early enough in a minute to stay inside it.
    private static async Task StartOfAMinuteAsync()
    {
        var intoMinute = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 60_000;
        if (intoMinute > 50_000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(60_000 - intoMinute + 100));
        }
    }

    [Fact]
    public async Task A_requests_per_minute_limit_of_N_admits_at_most_N_under_concurrency()
    {
        using var client = _host.Client(await _host.CreateKeyAsync(new { name = "rpm", rpm = 10 }));
        await StartOfAMinuteAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", stream = i % 2 == 0, messages = new[] { new { role = "user", content = $"hi {i}" } } });
            await response.Content.ReadAsStringAsync();
            return (response.StatusCode, Retry: response.Headers.RetryAfter?.Delta, Remaining: response.Headers.GetValues("x-ratelimit-remaining-requests").Single(),
                Limit: response.Headers.GetValues("x-ratelimit-limit-requests").Single());
        }));
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(30, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.All(responses, r => Assert.Equal("10", r.Limit));
        Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests), r =>
        {
            Assert.Equal("0", r.Remaining);
            Assert.InRange(r.Retry!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        });
        Assert.Equal(10, _host.Vendor.Ledger.Bills.Count); // the refused ones never reached the vendor
        var records = await _host.WaitForRecordsAsync(40);
        Assert.Equal(30, records.Count(r => r["status"]!.GetValue<string>() == "rejected" && r["httpStatus"]!.GetValue<int>() == 429));
    }

    [Fact]
    public async Task A_tokens_per_minute_limit_counts_the_prompt_and_the_output_cap_and_gives_back_what_was_not_used()
    {
        using var client = _host.Client(await _host.CreateKeyAsync(new { name = "tpm", tpm = 300 }));
        await StartOfAMinuteAsync();
        // Each asks for up to 100 output tokens; the fake answers 12, so most of each hold goes back.
        for (var i = 0; i < 5; i++)
        {
            using var ok = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", max_tokens = 100, messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("300", ok.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        }
        // A request that could use more than what is left is refused, with a clear message.
        using var refused = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", max_tokens = 280, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var error = (await refused.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.Equal("tokens", error["type"]!.GetValue<string>());
        Assert.Contains("tokens per minute", error["message"]!.GetValue<string>());
        Assert.Equal(5, _host.Vendor.Ledger.Bills.Count);
    }

    [Fact]
    public async Task Keys_without_limits_get_no_rate_headers()
    {
        using var client = _host.Client(await _host.CreateKeyAsync());
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-ratelimit-limit-requests"));
    }
}
