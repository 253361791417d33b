using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Apps.Packages;
using Mulan.Tests.Knowledge;
using Mulan.Tests.Support;
using static Mulan.Tests.Apps.Packages.ZipCrafting;

namespace Mulan.Tests.Apps;

/// <summary>Export and import over HTTP against a real server: between workspaces, with mappings, and refusing what it must.</summary>
public sealed class PackageTests : IAsyncLifetime
{
    private const string Handbook = """
        # Harbor Ltd handbook

        ## Leave
        Employees get twenty days of paid annual leave. Sick leave needs a doctor's note after two days.

        ## Expenses
        Hotel costs are reimbursed up to 600 CNY a night. Claims are due by the 25th of the month.
        """;

    private const string Question = "How many days of paid annual leave do employees get?";

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<string> WorkspaceAsync(string name)
    {
        using var response = await _host.Admin.PostAsJsonAsync("api/workspaces", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private async Task<string> KnowledgeBaseWithHandbookAsync(string name, string? workspace)
    {
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, name, workspace);
        using var added = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = "handbook.md", text = Handbook });
        var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
        Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, kb, doc))["status"]!.GetValue<string>());
        return kb;
    }

    /// <summary>An extractive knowledge-qa app (no model: the answer quotes its sources), published.</summary>
    private async Task<JsonObject> PublishedAppAsync(string slug, string knowledgeBase, string? workspace = null, string? model = null)
    {
        var definition = new JsonObject
        {
            ["slug"] = slug, ["name"] = "Harbor HR", ["kind"] = "knowledge-qa", ["knowledgeBases"] = new JsonArray(knowledgeBase),
            ["instructions"] = "Answer from the handbook.", ["suggestedQuestions"] = new JsonArray(Question),
        };
        if (model is not null)
        {
            definition["model"] = model;
        }
        if (workspace is not null)
        {
            definition["workspace"] = workspace;
        }
        using var created = await _host.Admin.PostAsJsonAsync("api/apps", definition);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var app = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        using var published = await _host.Admin.PostAsJsonAsync($"api/apps/{app["id"]}/publish", new { });
        Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync());
        return app;
    }

    private async Task<byte[]> ExportAsync(string app, string query = "")
    {
        using var response = await _host.Admin.GetAsync($"api/apps/{app}/export{query}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(AppPackage.MediaType, response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<HttpResponseMessage> ImportAsync(byte[] package, string query)
    {
        using var content = new ByteArrayContent(package);
        content.Headers.ContentType = new MediaTypeHeaderValue(AppPackage.MediaType);
        return await _host.Admin.PostAsync($"api/apps/import{query}", content);
    }

    private async Task<JsonObject> AskAsync(string key, string slug)
    {
        using var http = _host.Client(key);
        using var response = await http.PostAsJsonAsync("v1/chat/completions", new { model = $"app:{slug}", messages = new[] { new { role = "user", content = Question } } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task WaitForReadyAsync(HttpClient admin, JsonNode knowledgeBase)
    {
        foreach (var d in knowledgeBase["documents"]!.AsArray())
        {
            Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(admin, knowledgeBase["id"]!.GetValue<string>(), d!["id"]!.GetValue<string>()))["status"]!.GetValue<string>());
        }
    }

    // What no refused import may change.
    private async Task<string> StateAsync()
    {
        var sb = new StringBuilder();
        foreach (var p in new[] { "api/apps", "api/knowledge-bases", "api/audit?pageSize=1000" })
        {
            sb.Append(p).Append(": ").AppendLine(await _host.Admin.GetStringAsync(p));
        }
        return sb.ToString();
    }

    // Every file of the data folder (documents included) by name: what a refused import must not add to.
    private string FilesOnDisk() => string.Join("\n", Directory.EnumerateFiles(_host.DataDirectory, "*", SearchOption.AllDirectories).Order());

    [Fact]
    public async Task A_package_moves_an_app_with_its_documents_to_another_workspace_where_it_answers_the_same()
    {
        await KnowledgeBaseWithHandbookAsync("harbor-handbook", null);
        var app = await PublishedAppAsync("harbor-hr", "harbor-handbook");
        var original = await AskAsync(await _host.CreateKeyAsync(), "harbor-hr");
        Assert.Contains("twenty days", original["choices"]![0]!["message"]!["content"]!.GetValue<string>(), StringComparison.Ordinal);

        var package = await ExportAsync(app["id"]!.GetValue<string>(), "?documents=true");
        var read = Read(package);
        Assert.Empty(read.Problems);
        Assert.Equal(["harbor-handbook"], read.Contents!.Definition.KnowledgeBases);
        Assert.Equal("handbook.md", Assert.Single(Assert.Single(read.Contents.KnowledgeBases!).Documents).Source);

        await WorkspaceAsync("branch");
        using var imported = await ImportAsync(package, "?workspace=branch");
        Assert.True(imported.StatusCode == HttpStatusCode.Created, await imported.Content.ReadAsStringAsync());
        var result = (await imported.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, result["app"]!["version"]!.GetValue<int>());
        Assert.Null(result["app"]!["publishedVersion"]);
        var kb = Assert.Single(result["knowledgeBases"]!.AsArray())!;
        Assert.True(kb["created"]!.GetValue<bool>());
        Assert.Equal("harbor-handbook", kb["name"]!.GetValue<string>());
        await WaitForReadyAsync(_host.Admin, kb);

        var branchApp = result["app"]!["id"]!.GetValue<string>();
        (await _host.Admin.PostAsJsonAsync($"api/apps/{branchApp}/publish", new { })).EnsureSuccessStatusCode();
        var answer = await AskAsync(await _host.CreateKeyAsync(new { name = "branch", workspace = "branch" }), "harbor-hr");
        Assert.Equal(original["choices"]![0]!["message"]!["content"]!.GetValue<string>(), answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.NotEmpty(answer["citations"]!.AsArray());
        var citation = answer["citations"]![0]!;
        Assert.Contains("twenty days", citation["text"]!.GetValue<string>(), StringComparison.Ordinal);
        // Cited from the branch's own copy of the document, not from the original workspace's.
        var originalDocument = original["citations"]![0]!["documentId"]!.GetValue<string>();
        Assert.NotEqual(originalDocument, citation["documentId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_package_without_documents_is_mapped_onto_the_workspace_own_knowledge_base()
    {
        await KnowledgeBaseWithHandbookAsync("harbor-handbook", null);
        var app = await PublishedAppAsync("harbor-hr", "harbor-handbook");
        var package = await ExportAsync(app["slug"]!.GetValue<string>(), "?workspace=default");
        await WorkspaceAsync("branch");
        await KnowledgeBaseWithHandbookAsync("policies", "branch");

        var before = await StateAsync();
        using var unmapped = await ImportAsync(package, "?workspace=branch");
        Assert.Equal((HttpStatusCode)422, unmapped.StatusCode);
        var problem = (await unmapped.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["harbor-handbook"], problem["unmapped"]!["knowledgeBases"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Equal(before, await StateAsync());

        using var imported = await ImportAsync(package, "?workspace=branch&mapKnowledgeBase=harbor-handbook:policies");
        Assert.True(imported.StatusCode == HttpStatusCode.Created, await imported.Content.ReadAsStringAsync());
        var result = (await imported.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(result["knowledgeBases"]![0]!["created"]!.GetValue<bool>());
        Assert.Equal("policies", result["knowledgeBases"]![0]!["name"]!.GetValue<string>());
        (await _host.Admin.PostAsJsonAsync($"api/apps/{result["app"]!["id"]}/publish", new { })).EnsureSuccessStatusCode();
        var answer = await AskAsync(await _host.CreateKeyAsync(new { name = "branch", workspace = "branch" }), "harbor-hr");
        Assert.Contains("twenty days", answer["citations"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_route_is_422_listing_it_until_it_is_mapped()
    {
        await KnowledgeBaseWithHandbookAsync("harbor-handbook", null);
        var app = await PublishedAppAsync("harbor-hr", "harbor-handbook", model: "chat");
        // A package from an installation whose route is called differently.
        var contents = Read(await ExportAsync(app["id"]!.GetValue<string>())).Contents!;
        using var foreign = new MemoryStream();
        AppPackage.Write(foreign, contents with { Definition = contents.Definition with { Model = "gpt-legacy" } });
        await WorkspaceAsync("branch");
        await KnowledgeBaseWithHandbookAsync("harbor-handbook", "branch");

        var before = await StateAsync();
        using var refused = await ImportAsync(foreign.ToArray(), "?workspace=branch");
        Assert.Equal((HttpStatusCode)422, refused.StatusCode);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["gpt-legacy"], problem["unmapped"]!["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Empty(problem["unmapped"]!["knowledgeBases"]!.AsArray());
        using var badTarget = await ImportAsync(foreign.ToArray(), "?workspace=branch&mapModel=gpt-legacy:no-such-route");
        Assert.Equal((HttpStatusCode)422, badTarget.StatusCode);
        Assert.Contains("no-such-route", await badTarget.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync());

        using var mapped = await ImportAsync(foreign.ToArray(), "?workspace=branch&mapModel=gpt-legacy:chat-short");
        Assert.True(mapped.StatusCode == HttpStatusCode.Created, await mapped.Content.ReadAsStringAsync());
        var definition = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{(await mapped.Content.ReadFromJsonAsync<JsonObject>())!["app"]!["id"]}"))!["definition"]!;
        Assert.Equal("chat-short", definition["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task Hostile_or_conflicting_packages_are_refused_and_change_nothing()
    {
        await KnowledgeBaseWithHandbookAsync("harbor-handbook", null);
        var app = await PublishedAppAsync("harbor-hr", "harbor-handbook");
        var good = await ExportAsync(app["id"]!.GetValue<string>(), "?documents=true");
        await WorkspaceAsync("branch");
        var before = await StateAsync();
        var files = FilesOnDisk();

        var hostile = new (string Why, byte[] Package)[]
        {
            ("traversal", Package(("app.json", Utf8(Definition)), ("../../etc/cron.d/evil", Utf8("x")))),
            ("bomb", Package(("app.json", Utf8(Definition)), ("knowledge/faq-docs/1-zeros.txt", new byte[20 * 1024 * 1024]))),
            ("altered", Zip(("manifest.json", Manifest(("app.json", Utf8(Definition)))), ("app.json", Utf8(Definition.Replace("FAQ", "Evil", StringComparison.Ordinal))))),
            ("encrypted", SetFlags(good, "app.json", 1)),
            ("not a zip", Utf8("hello")),
            ("truncated", good[..(good.Length / 2)]),
        };
        foreach (var (why, package) in hostile)
        {
            using var response = await ImportAsync(package, "?workspace=branch");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode} {body}");
            Assert.NotEmpty(JsonNode.Parse(body)!["problems"]!.AsArray());
        }
        // The slug is taken in the workspace it came from.
        using var taken = await ImportAsync(good, "");
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        using var badSlug = await ImportAsync(good, "?workspace=branch&slug=Not%20A%20Slug");
        Assert.Equal(HttpStatusCode.BadRequest, badSlug.StatusCode);
        Assert.Contains("slug", (await badSlug.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        using var badMapping = await ImportAsync(good, "?workspace=branch&mapModel=nocolon");
        Assert.Equal(HttpStatusCode.BadRequest, badMapping.StatusCode);
        Assert.Equal(before, await StateAsync());
        // Read in memory only: not a file was written for any of them.
        Assert.Equal(files, FilesOnDisk());

        // Beside the original, the package's knowledge base name is taken: it must be mapped, here onto the original itself.
        using var copy = await ImportAsync(good, "?slug=harbor-hr-copy");
        Assert.Equal((HttpStatusCode)422, copy.StatusCode);
        Assert.Contains("already has a knowledge base 'harbor-handbook'", await copy.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync());
        using var shared = await ImportAsync(good, "?slug=harbor-hr-copy&mapKnowledgeBase=harbor-handbook:harbor-handbook");
        Assert.Equal(HttpStatusCode.Created, shared.StatusCode);
    }

    [Fact]
    public async Task An_export_holds_no_key_conversation_or_end_user_and_only_administrators_export_or_import()
    {
        await KnowledgeBaseWithHandbookAsync("harbor-handbook", null);
        var app = await PublishedAppAsync("harbor-hr", "harbor-handbook");
        var key = await _host.CreateKeyAsync();
        using (var http = _host.Client(key))
        {
            using var chat = await http.PostAsJsonAsync("v1/chat/completions", new
            {
                model = "app:harbor-hr", user = "employee-4711", messages = new[] { new { role = "user", content = Question } },
            });
            var answer = (await chat.Content.ReadFromJsonAsync<JsonObject>())!;
            using var feedback = await _host.Admin.PostAsJsonAsync("api/feedback", new
            {
                requestId = chat.Headers.GetValues("x-mulan-request-id").Single(), rating = "down", correction = "Twenty days, plus five after ten years.",
            });
            Assert.True(feedback.IsSuccessStatusCode, await feedback.Content.ReadAsStringAsync());
            var package = await ExportAsync(app["id"]!.GetValue<string>(), "?documents=true&evaluation=true");
            var text = new StringBuilder();
            using (var zip = new ZipArchive(new MemoryStream(package)))
            {
                foreach (var entry in zip.Entries)
                {
                    using var reader = new StreamReader(entry.Open());
                    text.Append(reader.ReadToEnd());
                }
            }
            var all = text.ToString();
            Assert.DoesNotContain(key, all, StringComparison.Ordinal);
            Assert.DoesNotContain("mk-", all, StringComparison.Ordinal);
            Assert.DoesNotContain(MulanHost.AdminKey, all, StringComparison.Ordinal);
            Assert.DoesNotContain("employee-4711", all, StringComparison.Ordinal);
            Assert.DoesNotContain(answer["conversation_id"]!.GetValue<string>(), all, StringComparison.Ordinal);
            Assert.DoesNotContain(_host.Vendor.ApiKey, all, StringComparison.Ordinal);
            var item = Assert.Single(Read(package).Contents!.Evaluation!);
            Assert.Equal((Question, "Twenty days, plus five after ten years.", "feedback"), (item.Question, item.Expected, item.Source));

            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync($"api/apps/{app["id"]}/export")).StatusCode);
            using var content = new ByteArrayContent(package);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync("api/apps/import", content)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"api/apps/{app["id"]}/export?version=9")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.Admin.GetAsync($"api/apps/{app["id"]}/export?version=0")).StatusCode);
    }
}
