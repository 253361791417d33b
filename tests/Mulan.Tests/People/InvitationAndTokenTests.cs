using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.People;

public sealed class InvitationAndTokenTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private MulanHost _host = null!;
    private string _workspace = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(configure: b =>
        {
            b.Services.AddSingleton<TimeProvider>(_clock);
            b.Configuration["People:SignInAttemptsPerMinute"] = "1000";
        });
        _workspace = await CreateWorkspaceAsync(_host, "invites");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string TokenOf(JsonObject created) =>
        created["invitation"]!["url"]!.GetValue<string>()["/invite/".Length..];

    private Task<HttpResponseMessage> AcceptAsync(object body) => Anonymous(_host).PostAsJsonAsync("api/auth/accept", body);

    [Fact]
    public async Task An_invitation_sets_the_password_once_and_signs_in()
    {
        var created = await CreateUserAsync(_host, "hal@example.com", _workspace, "member", password: null);
        Assert.StartsWith("/invite/mi-", created["invitation"]!["url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(created["hasPassword"]!.GetValue<bool>());
        var token = TokenOf(created);
        // No password yet: nothing signs in.
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(_host, new { email = "hal@example.com", password = "" + Password })).StatusCode);

        using (var shortPassword = await AcceptAsync(new { token, password = "short" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, shortPassword.StatusCode);
            Assert.NotNull((await shortPassword.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["password"]);
        }
        using (var emailPassword = await AcceptAsync(new { token, password = "HAL@example.com" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, emailPassword.StatusCode);
            Assert.NotNull((await emailPassword.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["password"]);
        }
        // A refused password did not use the link up.
        using (var accepted = await AcceptAsync(new { token, password = "a new long password", name = "Hal" }))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.StartsWith("mulan_session=ms-", Assert.Single(accepted.Headers.GetValues("Set-Cookie")), StringComparison.Ordinal);
            Assert.Equal("Hal", (await accepted.Content.ReadFromJsonAsync<JsonObject>())!["user"]!["name"]!.GetValue<string>());
        }
        using (var again = await AcceptAsync(new { token, password = "another long password" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
            Assert.Equal("invitation_invalid", (await again.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
        }
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(_host, new { email = "hal@example.com", password = "a new long password" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(_host, new { email = "hal@example.com", password = "another long password" })).StatusCode);
    }

    [Fact]
    public async Task An_invitation_expires()
    {
        var created = await CreateUserAsync(_host, "ian@example.com", _workspace, "viewer", password: null);
        _clock.Advance(TimeSpan.FromHours(72) + TimeSpan.FromSeconds(1));
        using var late = await AcceptAsync(new { token = TokenOf(created), password = "a new long password" });
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(_host, new { email = "ian@example.com", password = "a new long password" })).StatusCode);
    }

    [Fact]
    public async Task Passwords_shorter_than_ten_or_equal_to_the_email_are_refused_naming_password()
    {
        foreach (var password in new[] { "123456789", "jo@example.com" })
        {
            using var response = await _host.Admin.PostAsJsonAsync("api/users", new { email = "jo@example.com", password, workspace = _workspace, role = "member" });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["password"]);
        }
        var users = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/users"))!["users"]!.AsArray();
        Assert.DoesNotContain(users, u => u!["email"]!.GetValue<string>() == "jo@example.com");
    }

    [Fact]
    public async Task A_personal_token_is_shown_once_stored_as_a_hash_and_stops_working_when_revoked()
    {
        await CreateUserAsync(_host, "kim@example.com", _workspace, "member");
        using var session = WithBearer(_host, await TokenAsync(_host, "kim@example.com"));
        using var created = await session.PostAsJsonAsync("api/tokens", new { name = "laptop", expiresInDays = 30 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var secret = body["token"]!.GetValue<string>();
        var id = body["id"]!.GetValue<string>();
        Assert.StartsWith("mp-", secret, StringComparison.Ordinal);

        var listed = await session.GetStringAsync("api/tokens");
        Assert.Contains(id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[3..], listed, StringComparison.Ordinal);

        using var token = WithBearer(_host, secret);
        Assert.Equal(HttpStatusCode.OK, (await token.GetAsync("api/knowledge-bases")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await token.GetAsync("api/keys")).StatusCode);

        // Nothing in the data folder (database, WAL) holds the secret.
        var needle = Encoding.UTF8.GetBytes(secret[3..]);
        foreach (var file in Directory.EnumerateFiles(_host.DataDirectory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy);
                bytes = copy.ToArray();
            }
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{file} holds the token");
        }

        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"api/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await token.GetAsync("api/knowledge-bases")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await session.DeleteAsync($"api/tokens/{id}")).StatusCode);
        var audit = await _host.Admin.GetStringAsync("api/audit?pageSize=100");
        Assert.Contains("token.created", audit, StringComparison.Ordinal);
        Assert.Contains("token.revoked", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_expires_and_one_limited_to_a_workspace_acts_only_there()
    {
        var other = await CreateWorkspaceAsync(_host, "invites-b");
        var user = await CreateUserAsync(_host, "lee@example.com", _workspace, "admin");
        using (var second = await _host.Admin.PostAsJsonAsync("api/users", new { email = "lee@example.com", workspace = other, role = "viewer" }))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }
        using var session = WithBearer(_host, await TokenAsync(_host, "lee@example.com"));
        // Two workspaces: a request names one.
        using (var ambiguous = await session.GetAsync("api/knowledge-bases"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, ambiguous.StatusCode);
        }
        var limited = (await (await session.PostAsJsonAsync("api/tokens", new { name = "ci", workspace = "invites-b", expiresInDays = 1 }))
            .Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
        using var token = WithBearer(_host, limited);
        Assert.Equal(HttpStatusCode.OK, (await token.GetAsync("api/knowledge-bases")).StatusCode);
        using (var elsewhere = new HttpRequestMessage(HttpMethod.Get, "api/knowledge-bases"))
        {
            elsewhere.Headers.Add("X-Mulan-Workspace", "invites");
            Assert.Equal(HttpStatusCode.NotFound, (await token.SendAsync(elsewhere)).StatusCode);
        }
        // Limited to B, where the user is a viewer: admin rights in A do not come along.
        Assert.Equal(HttpStatusCode.Forbidden, (await token.PostAsJsonAsync("api/knowledge-bases", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await token.GetAsync($"api/workspaces/{_workspace}/usage")).StatusCode);
        Assert.NotNull(user);
        _clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await token.GetAsync("api/knowledge-bases")).StatusCode);
    }
}
