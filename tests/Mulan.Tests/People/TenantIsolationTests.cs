using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.People;

/// <summary>Users of workspace B replaying workspace A's ids get 404, as virtual keys do; workspace admins manage only their own people.</summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _a = "", _b = "", _kbA = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(configure: b => b.Configuration["People:SignInAttemptsPerMinute"] = "1000");
        _a = await CreateWorkspaceAsync(_host, "tenant-a");
        _b = await CreateWorkspaceAsync(_host, "tenant-b");
        using var kb = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "secrets", workspace = "tenant-a" });
        _kbA = (await kb.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_user_of_another_workspace_sees_404_for_its_ids_and_its_routes()
    {
        await CreateUserAsync(_host, "owner-b@example.com", _b, "owner");
        using var b = WithBearer(_host, await TokenAsync(_host, "owner-b@example.com"));
        Assert.Equal(HttpStatusCode.NotFound, (await b.GetAsync($"api/knowledge-bases/{_kbA}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.PatchAsJsonAsync($"api/knowledge-bases/{_kbA}", new { description = "mine now" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.PostAsJsonAsync($"api/knowledge-bases/{_kbA}/search", new { query = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.DeleteAsync($"api/knowledge-bases/{_kbA}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.GetAsync($"api/workspaces/{_a}/usage")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.GetAsync("api/workspaces/tenant-a/audit")).StatusCode);
        Assert.DoesNotContain(_kbA, await b.GetStringAsync("api/knowledge-bases"), StringComparison.Ordinal);
        // Naming the other workspace in a body is 404 too, and creates nothing there.
        Assert.Equal(HttpStatusCode.NotFound, (await b.PostAsJsonAsync("api/knowledge-bases", new { name = "planted", workspace = "tenant-a" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await b.PostAsJsonAsync("api/knowledge-bases", new { name = "own" })).StatusCode);
        var inA = await _host.Admin.GetStringAsync("api/knowledge-bases");
        Assert.DoesNotContain("planted", inA, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await b.PostAsJsonAsync("api/users", new { email = "spy@example.com", workspace = "tenant-a", role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync($"api/workspaces/{_b}/usage")).StatusCode);
    }

    [Fact]
    public async Task Workspace_admins_manage_their_people_below_owner_and_owners_everyone()
    {
        await CreateUserAsync(_host, "admin-a@example.com", _a, "admin");
        await CreateUserAsync(_host, "owner-a@example.com", _a, "owner");
        await CreateUserAsync(_host, "someone-b@example.com", _b, "member");
        using var admin = WithBearer(_host, await TokenAsync(_host, "admin-a@example.com"));
        using var owner = WithBearer(_host, await TokenAsync(_host, "owner-a@example.com"));

        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsJsonAsync("api/users", new { email = "o2@example.com", role = "owner" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await admin.PostAsJsonAsync("api/users", new { email = "root2@example.com", password = Password, instanceAdmin = true, role = "viewer" })).StatusCode);
        var member = await CreateUserAsync(_host, "m@example.com", null, "member", password: null, by: admin);
        Assert.Equal("tenant-a", member["memberships"]![0]!["workspace"]!["name"]!.GetValue<string>());
        Assert.NotNull(member["invitation"]);
        await CreateUserAsync(_host, "o2@example.com", null, "owner", by: owner);

        // Each sees their own workspace's people only.
        var listed = await admin.GetStringAsync("api/users");
        Assert.Contains("m@example.com", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("someone-b@example.com", listed, StringComparison.Ordinal);
        var everyone = await _host.Admin.GetStringAsync("api/users");
        Assert.Contains("someone-b@example.com", everyone, StringComparison.Ordinal);

        var ownerId = (await owner.GetFromJsonAsync<JsonObject>("api/auth/me"))!["user"]!["id"]!.GetValue<string>();
        var outsider = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/users"))!["users"]!.AsArray()
            .Single(u => u!["email"]!.GetValue<string>() == "someone-b@example.com")!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PatchAsJsonAsync($"api/users/{ownerId}", new { role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.DeleteAsync($"api/users/{ownerId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsJsonAsync($"api/users/{outsider}", new { role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PatchAsJsonAsync($"api/users/{member["id"]!.GetValue<string>()}", new { disabled = true })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"api/users/{member["id"]!.GetValue<string>()}", new { role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"api/users/{member["id"]!.GetValue<string>()}")).StatusCode);
        Assert.DoesNotContain("m@example.com", await owner.GetStringAsync("api/users"), StringComparison.Ordinal);

        var audit = await _host.Admin.GetStringAsync("api/audit?pageSize=200");
        foreach (var action in new[] { "user.created", "user.invited", "user.updated", "user.removed", "user.signed_in" })
        {
            Assert.Contains(action, audit, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_instance_administrator_user_is_created_by_the_admin_key_and_acts_everywhere()
    {
        await CreateUserAsync(_host, "root@example.com", null, null, instanceAdmin: true);
        using var root = WithBearer(_host, await TokenAsync(_host, "root@example.com"));
        var me = (await root.GetFromJsonAsync<JsonObject>("api/auth/me"))!;
        Assert.True(me["user"]!["instanceAdmin"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, (await root.GetAsync($"api/knowledge-bases/{_kbA}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await root.GetAsync("api/providers")).StatusCode);
        await CreateUserAsync(_host, "root2@example.com", null, null, instanceAdmin: true, by: root);
        // Actions are audited as the user, not as the bootstrap key.
        using var created = await root.PostAsJsonAsync("api/workspaces", new { name = "by-root" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var workspaceId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var entry = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=workspace.created&pageSize=100"))!["entries"]!.AsArray()
            .Single(e => e!["targetId"]!.GetValue<string>() == workspaceId);
        Assert.Equal("user:" + me["user"]!["id"]!.GetValue<string>(), entry!["actor"]!.GetValue<string>());
    }
}
