using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Assistant;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.People;

/// <summary>
/// The owner of workspace B replays workspace A's real ids — an app, its share link, a run, an evaluation set and run, a
/// pilot — on every route that takes them: each answers 404 (never 403, which would confirm the id exists), nothing
/// changes in A, and B's lists never show A's things.
/// </summary>
public sealed class TenantIsolationAcrossFeaturesTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _app = "", _share = "", _run = "", _set = "", _evalRun = "", _pilot = "";

    public async Task InitializeAsync()
    {
        _host = await AssistantTestKit.StartAsync(b => b.Configuration["People:SignInAttemptsPerMinute"] = "1000");
        await CreateWorkspaceAsync(_host, "tenant-a");
        await CreateWorkspaceAsync(_host, "tenant-b");
        await AppTestKit.KnowledgeBaseAsync(_host, "a-handbook", "The office opens at nine.", workspace: "tenant-a");
        _app = await AppTestKit.PublishAsync(_host, new
        {
            slug = "a-helper", name = "A helper", kind = "assistant", model = "agent", knowledgeBases = new[] { "a-handbook" }, workspace = "tenant-a",
            assistant = new { schedules = new[] { new { name = "daily", cron = "0 9 * * *", input = "Summarise." } } },
        });
        _share = (await PostAsync(_host.Admin, $"api/apps/{_app}/shares", new { name = "intranet" }))["id"]!.GetValue<string>();
        _run = (await AssistantTestKit.StartRunAsync(_host.Admin, _app, "What time does the office open?"))["id"]!.GetValue<string>();
        await AssistantTestKit.WaitAsync(_host.Admin, _run);
        _set = (await PostAsync(_host.Admin, "api/evaluations/sets", new
        {
            name = "a-set", workspace = "tenant-a", items = new[] { new { question = "When does the office open?", expectedFacts = new[] { "nine" } } },
        }))["id"]!.GetValue<string>();
        _evalRun = (await PostAsync(_host.Admin, "api/evaluations/runs", new { set = _set, target = new { knowledgeBase = "a-handbook" } }))["id"]!.GetValue<string>();
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        _pilot = (await PostAsync(_host.Admin, "api/pilots", new
        {
            name = "A pilot", customer = "A Corp", contractValue = new { amount = 1000, currency = "CNY" }, start = today, end = today, workspace = "tenant-a",
        }))["id"]!.GetValue<string>();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<JsonObject> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task The_owner_of_another_workspace_gets_404_for_every_id_of_this_one_and_changes_nothing()
    {
        await CreateUserAsync(_host, "owner-b@example.com", "tenant-b", "owner");
        using var b = WithBearer(_host, await TokenAsync(_host, "owner-b@example.com"));
        var before = await _host.Admin.GetStringAsync($"api/apps/{_app}");
        var pilotBefore = await _host.Admin.GetStringAsync($"api/pilots/{_pilot}");

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var calls = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, $"api/apps/{_app}", null),
            (HttpMethod.Put, $"api/apps/{_app}", new { slug = "a-helper", name = "Taken", kind = "assistant", model = "agent" }),
            (HttpMethod.Post, $"api/apps/{_app}/publish", new { }),
            (HttpMethod.Post, $"api/apps/{_app}/rollback", new { version = 1 }),
            (HttpMethod.Get, $"api/apps/{_app}/versions", null),
            (HttpMethod.Get, $"api/apps/{_app}/versions/1", null),
            (HttpMethod.Get, $"api/apps/{_app}/export", null),
            (HttpMethod.Get, $"api/apps/{_app}/conversations", null),
            (HttpMethod.Get, $"api/apps/{_app}/shares", null),
            (HttpMethod.Post, $"api/apps/{_app}/shares", new { name = "spy" }),
            (HttpMethod.Delete, $"api/apps/{_app}/shares/{_share}", null),
            (HttpMethod.Post, $"api/apps/{_app}/runs", new { input = "hello" }),
            (HttpMethod.Get, $"api/apps/{_app}/runs", null),
            (HttpMethod.Get, $"api/runs/{_run}", null),
            (HttpMethod.Get, $"api/runs/{_run}/events", null),
            (HttpMethod.Post, $"api/runs/{_run}/cancel", new { }),
            (HttpMethod.Post, $"api/runs/{_run}/approve", new { }),
            (HttpMethod.Get, $"api/evaluations/sets/{_set}", null),
            (HttpMethod.Put, $"api/evaluations/sets/{_set}", new { name = "taken", items = new[] { new { question = "q" } } }),
            (HttpMethod.Post, $"api/evaluations/sets/{_set}/items", new { items = new[] { new { question = "q" } } }),
            (HttpMethod.Post, "api/evaluations/runs", new { set = _set, target = new { model = "chat" } }),
            (HttpMethod.Get, $"api/evaluations/runs/{_evalRun}", null),
            (HttpMethod.Post, $"api/evaluations/runs/{_evalRun}/cancel", new { }),
            (HttpMethod.Get, $"api/pilots/{_pilot}", null),
            (HttpMethod.Patch, $"api/pilots/{_pilot}", new { name = "taken" }),
            (HttpMethod.Post, $"api/pilots/{_pilot}/scope", new { title = "planted", priority = "must" }),
            (HttpMethod.Post, $"api/pilots/{_pilot}/freeze", new { }),
            (HttpMethod.Get, $"api/pilots/{_pilot}/changes", null),
            (HttpMethod.Post, $"api/pilots/{_pilot}/effort", new { role = "spy", days = 1, dayRate = new { amount = 1, currency = "CNY" }, date = today }),
            (HttpMethod.Get, $"api/pilots/{_pilot}/ledger", null),
            (HttpMethod.Get, $"api/pilots/{_pilot}/report?format=json", null),
            (HttpMethod.Post, $"api/pilots/{_pilot}/signoff", new { side = "customer", name = "spy" }),
            (HttpMethod.Get, "api/chat/a-helper", null),
            (HttpMethod.Delete, $"api/evaluations/sets/{_set}", null),
            (HttpMethod.Delete, $"api/apps/{_app}", null),
        };
        var wrong = new List<string>();
        foreach (var (method, path, body) in calls)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await b.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                wrong.Add($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));

        // Nothing of A changed, and B's own lists show none of it.
        Assert.Equal(before, await _host.Admin.GetStringAsync($"api/apps/{_app}"));
        Assert.Equal(pilotBefore, await _host.Admin.GetStringAsync($"api/pilots/{_pilot}"));
        Assert.Single((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{_app}/shares"))!["shares"]!.AsArray());
        Assert.DoesNotContain("spy", await _host.Admin.GetStringAsync($"api/pilots/{_pilot}/ledger"), StringComparison.Ordinal);
        Assert.DoesNotContain("planted", await _host.Admin.GetStringAsync($"api/pilots/{_pilot}"), StringComparison.Ordinal);
        foreach (var list in new[] { "api/apps", "api/runs", "api/evaluations/sets", "api/evaluations/runs", "api/pilots", "api/schedules", "api/knowledge-bases" })
        {
            var text = await b.GetStringAsync(list);
            foreach (var id in new[] { _app, _run, _set, _evalRun, _pilot, "a-handbook", "a-helper" })
            {
                Assert.False(text.Contains(id, StringComparison.Ordinal), $"{list} shows {id} of another workspace: {text}");
            }
        }
    }
}
