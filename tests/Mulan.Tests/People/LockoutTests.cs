using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.People;

public sealed class LockoutTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private MulanHost _host = null!;
    private string _workspace = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(configure: b =>
        {
            b.Services.AddSingleton<TimeProvider>(_clock);
            b.Configuration["People:SignInAttemptsPerMinute"] = "8";
            b.Configuration["People:SessionMinutes"] = "30";
            b.Configuration["People:SessionMaxDays"] = "1";
        });
        _workspace = await CreateWorkspaceAsync(_host, "locks");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Five_failures_lock_the_account_for_fifteen_minutes_even_for_the_right_password()
    {
        await CreateUserAsync(_host, "dee@example.com", _workspace, "member");
        for (var i = 0; i < 4; i++)
        {
            using var wrong = await LoginAsync(_host, new { email = "dee@example.com", password = "wrong password " + i });
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using (var fifth = await LoginAsync(_host, new { email = "dee@example.com", password = "wrong password 5" }))
        {
            Assert.Equal((HttpStatusCode)423, fifth.StatusCode);
        }
        using (var locked = await LoginAsync(_host, new { email = "dee@example.com", password = Password }))
        {
            Assert.Equal((HttpStatusCode)423, locked.StatusCode);
            var retry = int.Parse(Assert.Single(locked.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retry, 14 * 60, 15 * 60);
            Assert.False(locked.Headers.Contains("Set-Cookie"));
        }
        _clock.Advance(TimeSpan.FromMinutes(1));
        using (var stillLocked = await LoginAsync(_host, new { email = "dee@example.com", password = Password }))
        {
            Assert.Equal((HttpStatusCode)423, stillLocked.StatusCode);
        }
        _clock.Advance(TimeSpan.FromMinutes(15));
        using var open = await LoginAsync(_host, new { email = "dee@example.com", password = Password });
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);

        // The failures are audited with the email and never the password.
        var audit = await _host.Admin.GetStringAsync("api/audit?action=user.sign_in_failed&pageSize=100");
        Assert.Contains("dee@example.com", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong password", audit, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"locked\"", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_address_gets_429_with_retry_after_past_its_attempts_per_minute()
    {
        for (var i = 0; i < 8; i++)
        {
            using var attempt = await LoginAsync(_host, new { email = $"nobody{i}@example.com", password = "whatever password" });
            Assert.Equal(HttpStatusCode.Unauthorized, attempt.StatusCode);
        }
        using (var limited = await LoginAsync(_host, new { email = "nobody@example.com", password = "whatever password" }))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            var retry = int.Parse(Assert.Single(limited.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retry, 1, 60);
        }
        // Accepting invitations counts against the same budget.
        using (var accept = await Anonymous(_host).PostAsJsonAsync("api/auth/accept", new { token = "mi-none", password = "long enough password" }))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, accept.StatusCode);
        }
        _clock.Advance(TimeSpan.FromMinutes(1));
        using var again = await LoginAsync(_host, new { email = "nobody@example.com", password = "whatever password" });
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
    }

    [Fact]
    public async Task A_session_slides_with_use_and_expires_when_left_alone()
    {
        await CreateUserAsync(_host, "eve@example.com", _workspace, "viewer");
        var token = await TokenAsync(_host, "eve@example.com");
        using var bearer = WithBearer(_host, token);
        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("api/auth/me")).StatusCode);
        // 40 minutes after sign-in, past the first 30-minute expiry: the use at 20 minutes pushed it out.
        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("api/auth/me")).StatusCode);
        _clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("api/knowledge-bases")).StatusCode);
    }

    [Fact]
    public async Task A_used_session_still_ends_at_its_maximum_life()
    {
        await CreateUserAsync(_host, "fay@example.com", _workspace, "viewer");
        var token = await TokenAsync(_host, "fay@example.com");
        using var bearer = WithBearer(_host, token);
        for (var i = 0; i < 48; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(25));
            if ((await bearer.GetAsync("api/auth/me")).StatusCode != HttpStatusCode.OK)
            {
                // 48 × 25 minutes is 20 hours; SessionMaxDays = 1 must not end it earlier.
                Assert.Fail($"ended after {(i + 1) * 25} minutes");
            }
        }
        _clock.Advance(TimeSpan.FromHours(4));
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task A_disabled_user_is_signed_out_and_cannot_sign_in()
    {
        var user = await CreateUserAsync(_host, "gil@example.com", _workspace, "member");
        var token = await TokenAsync(_host, "gil@example.com");
        using var patch = await _host.Admin.PatchAsJsonAsync($"api/users/{user["id"]!.GetValue<string>()}", new { disabled = true });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithBearer(_host, token).GetAsync("api/auth/me")).StatusCode);
        using var login = await LoginAsync(_host, new { email = "gil@example.com", password = Password });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Equal("invalid_credentials", (await login.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
    }
}
