using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.People;

public sealed class SignInTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Password_sign_in_sets_a_strict_http_only_cookie_and_the_token_works_as_a_bearer()
    {
        var ws = await CreateWorkspaceAsync(_host, "alpha");
        var user = await CreateUserAsync(_host, " Ana@Example.COM ", ws, "member");
        Assert.Equal("ana@example.com", user["email"]!.GetValue<string>());

        using var response = await LoginAsync(_host, new { email = "ANA@example.com", password = Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("mulan_session=ms-", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);
        // The test server speaks plain HTTP: Secure would make browsers drop the cookie.
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var token = body["token"]!.GetValue<string>();
        Assert.Equal(user["id"]!.GetValue<string>(), body["user"]!["id"]!.GetValue<string>());

        using var bearer = WithBearer(_host, token);
        var me = (await bearer.GetFromJsonAsync<JsonObject>("api/auth/me"))!;
        Assert.Equal("ana@example.com", me["user"]!["email"]!.GetValue<string>());
        Assert.False(me["user"]!["instanceAdmin"]!.GetValue<bool>());
        var membership = Assert.Single(me["memberships"]!.AsArray())!;
        Assert.Equal("alpha", membership["workspace"]!["name"]!.GetValue<string>());
        Assert.Equal("member", membership["role"]!.GetValue<string>());
        Assert.Equal(ws, me["currentWorkspace"]!["id"]!.GetValue<string>());
        // A member may read the workspace's knowledge bases, and not the instance's providers.
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("api/knowledge-bases")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.GetAsync("api/providers")).StatusCode);
    }

    [Fact]
    public async Task The_admin_key_signs_in_as_the_instance_administrator()
    {
        using var wrong = await LoginAsync(_host, new { adminKey = "mka-not-the-key" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var response = await LoginAsync(_host, new { adminKey = MulanHost.AdminKey });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
        using var cookie = WithCookie(_host, token);
        var me = (await cookie.GetFromJsonAsync<JsonObject>("api/auth/me"))!;
        Assert.Equal("admin", me["user"]!["id"]!.GetValue<string>());
        Assert.Null(me["user"]!["email"]);
        Assert.True(me["user"]!["instanceAdmin"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(me["csrfToken"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await cookie.GetAsync("api/providers")).StatusCode);
    }

    [Fact]
    public async Task A_session_signed_in_with_the_admin_key_ends_when_the_key_is_replaced()
    {
        var token = await AdminSessionAsync();
        using var bearer = WithBearer(_host, token);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("api/providers")).StatusCode);
        // As a restart with another MULAN_ADMIN_KEY (or mulan admin reset-key) would.
        await _host.App.Services.GetRequiredService<Mulan.Access.AdminKey>().InitializeAsync("mka-a-replacement-key-0123456789", CancellationToken.None);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("api/providers")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task A_cookie_request_that_changes_something_needs_the_csrf_header_and_a_bearer_needs_none()
    {
        var token = await AdminSessionAsync();
        using var noHeader = WithCookie(_host, token);
        using var refused = await noHeader.PostAsJsonAsync("api/workspaces", new { name = "csrf-a" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("antiforgery", (await refused.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
        Assert.DoesNotContain((await _host.Admin.GetFromJsonAsync<JsonObject>("api/workspaces"))!["workspaces"]!.AsArray(), w => w!["name"]!.GetValue<string>() == "csrf-a");

        using var wrongHeader = WithCookie(_host, token, csrf: "not-the-token");
        Assert.Equal(HttpStatusCode.BadRequest, (await wrongHeader.PostAsJsonAsync("api/workspaces", new { name = "csrf-b" })).StatusCode);

        var csrf = (await noHeader.GetFromJsonAsync<JsonObject>("api/auth/me"))!["csrfToken"]!.GetValue<string>();
        using var withHeader = WithCookie(_host, token, csrf);
        Assert.Equal(HttpStatusCode.Created, (await withHeader.PostAsJsonAsync("api/workspaces", new { name = "csrf-c" })).StatusCode);

        // Another session's token does not fit this session.
        var other = await AdminSessionAsync();
        using var otherCsrf = WithCookie(_host, other, csrf);
        Assert.Equal(HttpStatusCode.BadRequest, (await otherCsrf.PostAsJsonAsync("api/workspaces", new { name = "csrf-d" })).StatusCode);

        using var bearer = WithBearer(_host, token);
        Assert.Equal(HttpStatusCode.Created, (await bearer.PostAsJsonAsync("api/workspaces", new { name = "csrf-e" })).StatusCode);
    }

    [Fact]
    public async Task Logout_ends_the_session()
    {
        var ws = await CreateWorkspaceAsync(_host, "beta");
        await CreateUserAsync(_host, "bo@example.com", ws, "viewer");
        var token = await TokenAsync(_host, "bo@example.com");
        using var bearer = WithBearer(_host, token);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("api/auth/me")).StatusCode);
        using var logout = await bearer.PostAsync("api/auth/logout", null);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Contains(logout.Headers.GetValues("Set-Cookie"), c => c.StartsWith("mulan_session=;", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("api/auth/me")).StatusCode);
        using var cookie = WithCookie(_host, token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await cookie.GetAsync("api/knowledge-bases")).StatusCode);
    }

    [Fact]
    public async Task Unknown_email_and_wrong_password_get_the_same_answer()
    {
        var ws = await CreateWorkspaceAsync(_host, "gamma");
        await CreateUserAsync(_host, "cy@example.com", ws, "member");
        using var unknown = await LoginAsync(_host, new { email = "nobody@example.com", password = Password });
        using var wrong = await LoginAsync(_host, new { email = "cy@example.com", password = "wrong password!" });
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(WithoutTrace(await unknown.Content.ReadFromJsonAsync<JsonObject>()), WithoutTrace(await wrong.Content.ReadFromJsonAsync<JsonObject>()));
        Assert.False(unknown.Headers.Contains("Set-Cookie"));
    }

    private static string WithoutTrace(JsonObject? problem)
    {
        problem!.Remove("traceId");
        return problem.ToJsonString();
    }

    private async Task<string> AdminSessionAsync()
    {
        using var response = await LoginAsync(_host, new { adminKey = MulanHost.AdminKey });
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
    }
}
