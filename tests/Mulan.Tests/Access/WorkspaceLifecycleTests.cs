using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Access;
using Mulan.Tests.Support;

namespace Mulan.Tests.Access;

public sealed class WorkspaceLifecycleTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<JsonObject> CreateWorkspaceAsync(MulanHost host, string name)
    {
        using var response = await host.Admin.PostAsJsonAsync("api/workspaces", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task<JsonObject> CreateKeyAsync(MulanHost host, string name, string workspace)
    {
        using var response = await host.Admin.PostAsJsonAsync("api/keys", new { name, workspace });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static Task<HttpResponseMessage> ChatAsync(HttpClient http) =>
        http.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = "hi" } } });

    [Fact]
    public async Task Rename_changes_the_name_and_refuses_taken_names_the_default_workspace_and_bad_input()
    {
        var acme = await CreateWorkspaceAsync(_host, "acme");
        await CreateWorkspaceAsync(_host, "globex");
        var id = acme["id"]!.GetValue<string>();

        var renamed = await _host.Admin.PatchAsJsonAsync($"api/workspaces/{id}", new { name = "acme-cn" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("acme-cn", (await renamed.Content.ReadFromJsonAsync<JsonObject>())!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.PatchAsJsonAsync($"api/workspaces/{id}", new { name = "GLOBEX" })).StatusCode);
        var empty = await _host.Admin.PatchAsJsonAsync($"api/workspaces/{id}", new { name = " " });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.NotNull((await empty.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["name"]);
        var defaultRename = await _host.Admin.PatchAsJsonAsync("api/workspaces/default", new { name = "main" });
        Assert.Equal(HttpStatusCode.Conflict, defaultRename.StatusCode);
        Assert.Contains("default", (await defaultRename.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.PatchAsJsonAsync("api/workspaces/ws_nope", new { name = "x" })).StatusCode);

        var names = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/workspaces"))!["workspaces"]!.AsArray().Select(w => w!["name"]!.GetValue<string>());
        Assert.Equal(["default", "acme-cn", "globex"], names);
        var audit = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/audit?action=workspace.renamed"))!["entries"]!.AsArray();
        Assert.Equal("acme", Assert.Single(audit)!["details"]!["from"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_is_refused_while_it_holds_keys_or_knowledge_bases_and_for_the_default_workspace()
    {
        var acme = await CreateWorkspaceAsync(_host, "acme");
        var key = await CreateKeyAsync(_host, "acme-app", "acme");
        (await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "handbook", workspace = "acme", embeddingModel = "none" })).EnsureSuccessStatusCode();

        var refused = await _host.Admin.DeleteAsync("api/workspaces/acme");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("1 key, 1 knowledge base and 0 apps", problem["detail"]!.GetValue<string>());
        Assert.Equal("acme-app", problem["keys"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("handbook", problem["knowledgeBases"]![0]!["name"]!.GetValue<string>());
        Assert.DoesNotContain(key["key"]!.GetValue<string>(), problem.ToJsonString());

        // Refused: nothing changed.
        using (var http = _host.Client(key["key"]!.GetValue<string>()))
        {
            Assert.Equal(HttpStatusCode.OK, (await ChatAsync(http)).StatusCode);
        }

        var defaultDelete = await _host.Admin.DeleteAsync("api/workspaces/default?force=true");
        Assert.Equal(HttpStatusCode.Conflict, defaultDelete.StatusCode);
        Assert.Contains("cannot be deleted", (await defaultDelete.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync("api/workspaces/ws_nope")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.DeleteAsync($"api/workspaces/{acme["id"]}?force=maybe")).StatusCode);
        Assert.Equal(3, (await _host.Admin.GetFromJsonAsync<JsonObject>("api/workspaces"))!["workspaces"]!.AsArray().Count + 1);
    }

    [Fact]
    public async Task Forced_delete_revokes_keys_at_once_keeps_usage_and_frees_the_name()
    {
        var acme = await CreateWorkspaceAsync(_host, "acme");
        var acmeId = acme["id"]!.GetValue<string>();
        var key = await CreateKeyAsync(_host, "acme-app", "acme");
        using var http = _host.Client(key["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(http)).StatusCode);

        var deleted = await _host.Admin.DeleteAsync("api/workspaces/acme?force=true");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var summary = (await deleted.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(key["id"]!.GetValue<string>(), summary["revokedKeys"]![0]!["id"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Unauthorized, (await ChatAsync(http)).StatusCode);
        Assert.DoesNotContain("acme", await _host.Admin.GetStringAsync("api/workspaces"));
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync($"api/workspaces/{acmeId}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.PostAsJsonAsync("api/keys", new { name = "late", workspace = "acme" })).StatusCode);

        // Accounting: the deleted workspace's usage is still there by its id (the rejected 401 has no workspace).
        var usage = await _host.UsageRecordsAsync("&workspace=" + acmeId);
        Assert.Equal(acmeId, Assert.Single(usage, r => r["status"]!.GetValue<string>() == "ok")["workspace"]!.GetValue<string>());
        var keys = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/keys?workspace=" + acmeId))!["keys"]!.AsArray();
        Assert.NotNull(Assert.Single(keys)!["revokedAt"]);

        // The name is free again, for a new workspace with an id of its own.
        var again = await CreateWorkspaceAsync(_host, "acme");
        Assert.NotEqual(acmeId, again["id"]!.GetValue<string>());
        Assert.Empty(await _host.UsageRecordsAsync("&workspace=acme"));

        var actions = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/audit?workspace={acmeId}"))!["entries"]!.AsArray()
            .Select(e => e!["action"]!.GetValue<string>()).ToList();
        Assert.Contains("workspace.deleted", actions);
        Assert.Contains("key.revoked", actions);
    }

    [Fact]
    public async Task Empty_workspace_is_deleted_without_force()
    {
        await CreateWorkspaceAsync(_host, "empty");
        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.DeleteAsync("api/workspaces/empty")).StatusCode);
        Assert.DoesNotContain("empty", await _host.Admin.GetStringAsync("api/workspaces"));
    }

    [Fact]
    public async Task Forced_delete_takes_its_knowledge_bases_documents_and_files_along_and_leaves_other_workspaces_alone()
    {
        var acme = await CreateWorkspaceAsync(_host, "acme");
        var kb = (await (await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "handbook", workspace = "acme", embeddingModel = "none" }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var other = (await (await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "kept", embeddingModel = "none" }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        foreach (var id in new[] { kb, other })
        {
            (await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{id}/documents", new { title = "leave", text = "Annual leave is fifteen days." })).EnsureSuccessStatusCode();
        }
        var documents = Path.Combine(_host.DataDirectory, "documents");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var found = await (await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "leave" })).Content.ReadFromJsonAsync<JsonObject>();
            if (found!["results"]!.AsArray().Count > 0)
            {
                break;
            }
            await Task.Delay(100);
        }
        var filesBefore = Directory.Exists(documents) ? Directory.GetFiles(documents, "*", SearchOption.AllDirectories).Length : 0;

        var deleted = await _host.Admin.DeleteAsync("api/workspaces/acme?force=true");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("handbook", (await deleted.Content.ReadFromJsonAsync<JsonObject>())!["deletedKnowledgeBases"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"api/knowledge-bases/{kb}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.GetAsync($"api/knowledge-bases/{other}")).StatusCode);
        Assert.Equal(filesBefore - 1, Directory.GetFiles(documents, "*", SearchOption.AllDirectories).Length);
        var audit = await _host.Admin.GetStringAsync($"api/audit?action=knowledge_base.deleted");
        Assert.Contains(kb, audit);
        Assert.DoesNotContain(other, audit);
        Assert.NotNull(acme["id"]);
    }
}
