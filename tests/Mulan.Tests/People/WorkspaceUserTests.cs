using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Knowledge;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.People;

/// <summary>What workspace users may do with the workspace's knowledge, and what a question through a model is billed to.</summary>
public sealed class WorkspaceUserTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _workspace = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(configure: b => b.Configuration["People:SignInAttemptsPerMinute"] = "1000");
        _workspace = await CreateWorkspaceAsync(_host, "knowers");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_member_uploads_and_asks_through_a_model_billed_to_the_workspace_with_the_user_named()
    {
        await CreateUserAsync(_host, "admin@k.example", _workspace, "admin");
        var member = await CreateUserAsync(_host, "member@k.example", _workspace, "member");
        await CreateUserAsync(_host, "viewer@k.example", _workspace, "viewer");
        using var admin = WithBearer(_host, await TokenAsync(_host, "admin@k.example"));
        using var asMember = WithBearer(_host, await TokenAsync(_host, "member@k.example"));
        using var viewer = WithBearer(_host, await TokenAsync(_host, "viewer@k.example"));

        using var created = await admin.PostAsJsonAsync("api/knowledge-bases", new { name = "handbook" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var kb = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Forbidden, (await asMember.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { description = "x" })).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden,
            (await viewer.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = "Leave", text = "Employees get 15 days of paid leave." })).StatusCode);
        using var upload = await asMember.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents",
            new { title = "Leave", text = "Employees get 15 days of paid annual leave each year." });
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var doc = (await upload.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
        Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(viewer, kb, doc))["status"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync($"api/knowledge-bases/{kb}/ask", new { question = "paid leave?" })).StatusCode);
        using var ask = await asMember.PostAsJsonAsync($"api/knowledge-bases/{kb}/ask", new { question = "How many days of paid leave?", model = "chat" });
        Assert.Equal(HttpStatusCode.OK, ask.StatusCode);

        var records = await _host.WaitForRecordsAsync(1, $"&workspace={_workspace}&model=chat");
        var record = Assert.Single(records);
        Assert.Equal("service-knowledge-" + _workspace, record["key"]!.GetValue<string>());
        Assert.Equal("user:" + member["id"]!.GetValue<string>(), record["user"]!.GetValue<string>());
    }
}
