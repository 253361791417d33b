using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Knowledge.Lifecycle;
using Mulan.Tests.Support;
using static Mulan.Tests.Knowledge.Lifecycle.LifecycleTestKit;

namespace Mulan.Tests.Knowledge.Lifecycle;

public sealed class KnowledgeBaseLifecycleTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private HttpClient Admin => _host.Admin;

    [Fact]
    public async Task Patch_renames_and_describes_a_knowledge_base_and_refuses_bad_input_changing_nothing()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "policies");
        await KnowledgeApiTests.CreateKbAsync(_host, "taken");

        var response = await Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { name = "hr-policies", description = "Everything HR" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var updated = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("hr-policies", updated["name"]!.GetValue<string>());
        Assert.Equal("Everything HR", updated["description"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync("api/knowledge-bases/hr-policies")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("api/knowledge-bases/policies")).StatusCode);

        var cleared = (await (await Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { description = "" })).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Null(cleared["description"]);
        Assert.Equal("hr-policies", cleared["name"]!.GetValue<string>());

        var conflict = await Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { name = "taken", rerankModel = "chat" });
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        foreach (var (body, field) in new (object, string)[]
        {
            (new { name = "" }, "name"), (new { name = new string('n', 101) }, "name"), (new { description = new string('d', 2001) }, "description"),
            (new { name = "ok-name", rerankModel = "no-such-model" }, "rerankModel"), (new { }, "embeddingModel"),
        })
        {
            var refused = await Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.NotNull((await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
        }
        var after = (await Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!;
        Assert.Equal("hr-policies", after["name"]!.GetValue<string>());
        Assert.Equal("none", after["rerankModel"]!.GetValue<string>());

        var audit = (await Admin.GetFromJsonAsync<JsonObject>("api/audit?action=knowledge_base.updated"))!["entries"]!.AsArray();
        Assert.Contains(audit, e => e!["details"]!["renamedFrom"]?.GetValue<string>() == "policies");
    }

    [Fact]
    public async Task Deleting_a_knowledge_base_removes_everything_of_it()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "doomed");
        var other = await KnowledgeApiTests.CreateKbAsync(_host, "kept");
        var docs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            docs.Add((await UploadAsync(Admin, kb, $"d{i}.md", $"# Doc {i}\n\nThe observatory opens at night number {i}."))["id"]!.GetValue<string>());
        }
        var kept = (await UploadAsync(Admin, other, "k.md", "# Kept\n\nThe observatory in the other base."))["id"]!.GetValue<string>();
        await WaitIdleAsync(Admin, kb);
        await WaitIdleAsync(Admin, other);
        // One more still queued when the deletion comes.
        docs.Add((await UploadAsync(Admin, kb, "late.md", "# Late\n\nThe observatory late entry."))["id"]!.GetValue<string>());

        var response = await Admin.DeleteAsync($"api/knowledge-bases/{kb}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, (await response.Content.ReadFromJsonAsync<JsonObject>())!["documents"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"api/knowledge-bases/{kb}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "observatory" })).StatusCode);
        Assert.Equal((0, 0, 0), await RowsAsync(_host, "kb", kb));
        Assert.All(docs, d => Assert.False(FileExists(_host, d), d));
        Assert.True(FileExists(_host, kept));
        Assert.Single(await SearchAsync(Admin, other, "observatory"));
        Assert.DoesNotContain((await Admin.GetFromJsonAsync<JsonObject>("api/knowledge-bases"))!["knowledgeBases"]!.AsArray(), k => k!["id"]!.GetValue<string>() == kb);
        var entry = (await Admin.GetFromJsonAsync<JsonObject>("api/audit?action=knowledge_base.deleted"))!["entries"]![0]!;
        Assert.Equal(kb, entry["targetId"]!.GetValue<string>());

        // The name is free again, and nothing of the old one shows through.
        var again = await KnowledgeApiTests.CreateKbAsync(_host, "doomed");
        Assert.Empty(await SearchAsync(Admin, again, "observatory"));
        await Task.Delay(300); // the worker had its chance at the queued document of the deleted knowledge base
        Assert.Equal((0, 0, 0), await RowsAsync(_host, "kb", kb));
        Assert.DoesNotContain("Error Mulan", _host.Logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_knowledge_base_in_use_is_refused_with_409_naming_its_users_unless_forced()
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "used");
        var doc = (await UploadAsync(Admin, kb, "a.md", "# A\n\nUsed content."))["id"]!.GetValue<string>();
        await KnowledgeApiTests.WaitForDocumentAsync(Admin, kb, doc);
        _host.App.Services.GetRequiredService<KnowledgeBaseReferences>().Register((id, _) =>
            Task.FromResult<IReadOnlyList<string>>(id == kb ? ["app support-bot", "app hr-helper"] : []));

        var refused = await Admin.DeleteAsync($"api/knowledge-bases/{kb}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("app support-bot", problem["detail"]!.GetValue<string>());
        Assert.Equal(["app support-bot", "app hr-helper"], problem["usedBy"]!.AsArray().Select(u => u!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"api/knowledge-bases/{kb}")).StatusCode);
        Assert.Single(await SearchAsync(Admin, kb, "used content"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin.DeleteAsync($"api/knowledge-bases/{kb}?force=maybe")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Admin.DeleteAsync($"api/knowledge-bases/{kb}?force=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"api/knowledge-bases/{kb}")).StatusCode);
        Assert.True((await Admin.GetFromJsonAsync<JsonObject>("api/audit?action=knowledge_base.deleted"))!["entries"]![0]!["details"]!["force"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Deleting_a_workspaces_knowledge_bases_leaves_other_workspaces_alone()
    {
        (await Admin.PostAsJsonAsync("api/workspaces", new { name = "leaving" })).EnsureSuccessStatusCode();
        var gone = new[] { await KnowledgeApiTests.CreateKbAsync(_host, "one", "leaving"), await KnowledgeApiTests.CreateKbAsync(_host, "two", "leaving") };
        var stays = await KnowledgeApiTests.CreateKbAsync(_host, "one");
        var doc = (await UploadAsync(Admin, gone[0], "x.md", "# X\n\nThe workspace content."))["id"]!.GetValue<string>();
        await UploadAsync(Admin, stays, "y.md", "# Y\n\nThe workspace content stays.");
        await WaitIdleAsync(Admin, gone[0]);
        await WaitIdleAsync(Admin, stays);
        var lifecycle = _host.App.Services.GetRequiredService<KnowledgeLifecycle>();
        _host.App.Services.GetRequiredService<KnowledgeBaseReferences>().Register((_, _) => Task.FromResult<IReadOnlyList<string>>(["app everything"]));
        var workspace = (await Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{gone[0]}"))!["workspace"]!.GetValue<string>();

        var deleted = await lifecycle.DeleteWorkspaceAsync(workspace, CancellationToken.None);

        Assert.Equal(gone.Order(), deleted.Order());
        Assert.All(gone, async k => Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"api/knowledge-bases/{k}")).StatusCode));
        Assert.Equal((0, 0, 0), await RowsAsync(_host, "kb", gone[0]));
        Assert.False(FileExists(_host, doc));
        Assert.Single(await SearchAsync(Admin, stays, "workspace content"));
        Assert.Empty(await lifecycle.DeleteWorkspaceAsync(workspace, CancellationToken.None));
    }
}
