using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.People;
using Mulan.Tests.Support;

namespace Mulan.Tests.Console.Chat;

/// <summary>Signed-in people on the chat API: members chat with their own history, viewers may not, workspace admins
/// manage share links, cookies need the CSRF header, and another workspace's app is not found.</summary>
public sealed class ChatPeopleTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _app = null!;

    public async Task InitializeAsync()
    {
        _host = await ChatTestKit.StartAsync();
        _app = await ChatTestKit.PublishQaAsync(_host, "refunds", ChatTestKit.Refunds);
        await PeopleClient.CreateWorkspaceAsync(_host, "other");
        foreach (var (email, workspace, role) in new[]
        {
            ("ann@example.com", "default", "member"), ("ben@example.com", "default", "member"), ("vic@example.com", "default", "viewer"),
            ("ada@example.com", "default", "admin"), ("oz@example.com", "other", "owner"),
        })
        {
            await PeopleClient.CreateUserAsync(_host, email, workspace, role);
        }
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<HttpClient> SignedInAsync(string email) => PeopleClient.WithBearer(_host, await PeopleClient.TokenAsync(_host, email));

    [Fact]
    public async Task Members_chat_as_themselves_and_see_only_their_own_conversations()
    {
        using var ann = await SignedInAsync("ann@example.com");
        using var ben = await SignedInAsync("ben@example.com");
        var done = (await ChatTestKit.SendAsync(ann, "refunds", new { message = "How long do refunds take?" })).Single(e => e.Name == "done");
        var conversation = done.Data["conversationId"]!.GetValue<string>();

        var me = (await ann.GetFromJsonAsync<JsonObject>("api/auth/me"))!["user"]!["id"]!.GetValue<string>();
        var record = Assert.Single(await _host.WaitForRecordsAsync(2, "&app=" + _app), r => r["endpoint"]!.GetValue<string>() == "app.chat");
        Assert.Equal(me, record["user"]!.GetValue<string>());
        Assert.StartsWith("service-console-", record["key"]!.GetValue<string>());

        Assert.Single((await ann.GetFromJsonAsync<JsonObject>("api/chat/refunds/conversations"))!["conversations"]!.AsArray());
        Assert.Empty((await ben.GetFromJsonAsync<JsonObject>("api/chat/refunds/conversations"))!["conversations"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await ben.GetAsync($"api/chat/refunds/conversations/{conversation}")).StatusCode);
    }

    [Fact]
    public async Task A_viewer_may_not_chat_and_another_workspace_does_not_see_the_app()
    {
        using var vic = await SignedInAsync("vic@example.com");
        using var oz = await SignedInAsync("oz@example.com");
        Assert.Equal(HttpStatusCode.Forbidden, (await vic.PostAsJsonAsync("api/chat/refunds/messages", new { message = "hi" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await oz.GetAsync("api/chat/refunds")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await oz.PostAsJsonAsync("api/chat/refunds/messages", new { message = "hi" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await oz.GetAsync($"api/apps/{_app}/shares")).StatusCode);
        Assert.Empty(await _host.UsageRecordsAsync("&app=" + _app + "&model=app:refunds"));
    }

    [Fact]
    public async Task Workspace_admins_manage_share_links_and_members_may_not()
    {
        using var ada = await SignedInAsync("ada@example.com");
        using var ann = await SignedInAsync("ann@example.com");
        Assert.Equal(HttpStatusCode.Forbidden, (await ann.PostAsJsonAsync($"api/apps/{_app}/shares", new { name = "mine" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ann.GetAsync($"api/apps/{_app}/shares")).StatusCode);
        using var created = await ada.PostAsJsonAsync($"api/apps/{_app}/shares", new { name = "lobby" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var share = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var listed = Assert.Single((await ada.GetFromJsonAsync<JsonObject>($"api/apps/{_app}/shares"))!["shares"]!.AsArray())!;
        Assert.StartsWith("user:", listed["createdBy"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await ann.DeleteAsync($"api/apps/{_app}/shares/{share["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await ada.DeleteAsync($"api/apps/{_app}/shares/{share["id"]}")).StatusCode);
    }

    [Fact]
    public async Task A_cookie_session_must_send_its_csrf_token_to_chat()
    {
        var session = await PeopleClient.TokenAsync(_host, "ann@example.com");
        using var bare = PeopleClient.WithCookie(_host, session);
        var csrf = (await bare.GetFromJsonAsync<JsonObject>("api/auth/me"))!["csrfToken"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await bare.GetAsync("api/chat/refunds")).StatusCode);
        using var refused = await bare.PostAsJsonAsync("api/chat/refunds/messages", new { message = "How long do refunds take?" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("antiforgery", (await refused.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());

        using var withToken = PeopleClient.WithCookie(_host, session, csrf);
        var events = await ChatTestKit.SendAsync(withToken, "refunds", new { message = "How long do refunds take?" });
        Assert.Equal("done", events[^1].Name);
    }
}
