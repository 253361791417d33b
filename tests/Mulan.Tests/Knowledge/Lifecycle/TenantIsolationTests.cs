using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;
using static Mulan.Tests.Knowledge.Lifecycle.LifecycleTestKit;

namespace Mulan.Tests.Knowledge.Lifecycle;

/// <summary>A key of another workspace replaying this workspace's ids on every lifecycle route gets 404 and changes nothing.</summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Another_workspaces_key_gets_404_on_every_lifecycle_route_and_nothing_changes()
    {
        var admin = _host.Admin;
        (await admin.PostAsJsonAsync("api/workspaces", new { name = "rival" })).EnsureSuccessStatusCode();
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "secret");
        var doc = (await UploadAsync(admin, kb, "plan.md", "# Plan\n\nThe merger closes in May."))["id"]!.GetValue<string>();
        await KnowledgeApiTests.WaitForDocumentAsync(admin, kb, doc);
        // The rival's own knowledge base and document, to try mixing ids across workspaces.
        var rivalKb = await KnowledgeApiTests.CreateKbAsync(_host, "mine", "rival");
        var rivalDoc = (await UploadAsync(admin, rivalKb, "mine.md", "# Mine\n\nRival content."))["id"]!.GetValue<string>();
        await KnowledgeApiTests.WaitForDocumentAsync(admin, rivalKb, rivalDoc);
        using var rival = _host.Client(await _host.CreateKeyAsync(new { name = "rival", workspace = "rival" }));
        using var insider = _host.Client(await _host.CreateKeyAsync(new { name = "insider" }));

        foreach (var target in new[] { kb, "secret" })
        {
            var requests = new Func<HttpClient, Task<HttpResponseMessage>>[]
            {
                c => c.PatchAsJsonAsync($"api/knowledge-bases/{target}", new { name = "pwned" }),
                c => c.DeleteAsync($"api/knowledge-bases/{target}"),
                c => c.DeleteAsync($"api/knowledge-bases/{target}?force=true"),
                c => c.GetAsync($"api/knowledge-bases/{target}/documents"),
                c => c.GetAsync($"api/knowledge-bases/{target}/documents?status=ready"),
                c => c.PatchAsJsonAsync($"api/knowledge-bases/{target}/documents/{doc}", new { title = "pwned" }),
                c => c.DeleteAsync($"api/knowledge-bases/{target}/documents/{doc}"),
                c => c.GetAsync($"api/knowledge-bases/{target}/documents/{doc}"),
            };
            foreach (var request in requests)
            {
                var response = await request(rival);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.DoesNotContain("merger", await response.Content.ReadAsStringAsync());
            }
        }
        // Its own knowledge base with the other workspace's document id: 404 too.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"api/knowledge-bases/{rivalKb}/documents/{doc}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsJsonAsync($"api/knowledge-bases/{rivalKb}/documents/{doc}", new { title = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await rival.GetAsync($"api/knowledge-bases/{rivalKb}/documents/{doc}")).StatusCode);
        // The workspace's own virtual key may read but not change.
        Assert.Equal(HttpStatusCode.OK, (await insider.GetAsync($"api/knowledge-bases/{kb}/documents")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await insider.DeleteAsync($"api/knowledge-bases/{kb}/documents/{doc}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await insider.PatchAsJsonAsync($"api/knowledge-bases/{kb}/documents/{doc}", new { title = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await insider.DeleteAsync($"api/knowledge-bases/{kb}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await insider.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { name = "x" })).StatusCode);

        var after = (await admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents/{doc}"))!;
        Assert.Equal("Plan", after["title"]!.GetValue<string>());
        Assert.Equal("secret", (await admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!["name"]!.GetValue<string>());
        Assert.Single(await SearchAsync(admin, kb, "merger"));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"api/knowledge-bases/{rivalKb}/documents/{rivalDoc}")).StatusCode);
    }
}
