using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Knowledge;
using Mulan.Tests.Support;

namespace Mulan.Tests.Cli;

/// <summary>The real <c>mulan apps</c> verbs against a running server.</summary>
public sealed class AppsCommandTests : IAsyncLifetime
{
    private const string Handbook = """
        # Harbor Ltd handbook

        ## Leave
        Employees get twenty days of paid annual leave. Sick leave needs a doctor's note after two days.

        ## Expenses
        Hotel costs are reimbursed up to 600 CNY a night. Claims are due by the 25th of the month.
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-apps-cli-").FullName;
    private MulanHost _host = null!;
    private Dictionary<string, string?> _env = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _env = new Dictionary<string, string?> { ["MULAN_URL"] = _host.BaseUrl.ToString(), ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
        var kb = await KnowledgeApiTests.CreateKbAsync(_host, "handbook");
        using var added = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = "handbook.md", text = Handbook });
        var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
        Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, kb, doc))["status"]!.GetValue<string>());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args, string? stdin = null) => MulanProcess.RunAsync(args, _env, stdin);

    /// <summary>Runs a verb with --json: exit 0 and exactly one JSON document on stdout, on one line, with nothing else.</summary>
    private async Task<JsonNode> JsonAsync(params string[] args) => await JsonWithInputAsync(null, args);

    private async Task<JsonNode> JsonWithInputAsync(string? stdin, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync([.. args, "--json"], stdin);
        Assert.True(code == 0, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        var lines = stdout.Split('\n');
        Assert.True(lines.Length == 2 && lines[1] == "" && lines[0].Length > 0, $"mulan {string.Join(' ', args)} --json printed more than one line: [{stdout}]");
        using var doc = JsonDocument.Parse(lines[0]);
        return JsonNode.Parse(lines[0])!;
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Definition(string slug) => Write($"{slug}.json", $$"""
        {"slug": "{{slug}}", "name": "Harbor HR", "kind": "knowledge-qa", "knowledgeBases": ["handbook"], "instructions": "Answer from the handbook."}
        """);

    [Fact]
    public async Task Apps_are_created_listed_published_changed_compared_and_rolled_back()
    {
        var created = await JsonAsync("apps", "create", "-f", Definition("harbor-hr"));
        Assert.Equal(("harbor-hr", 1), (created["slug"]!.GetValue<string>(), created["version"]!.GetValue<int>()));
        Assert.Null(created["publishedVersion"]);
        var listed = (await JsonAsync("apps", "list"))["apps"]!.AsArray();
        Assert.Equal("harbor-hr", Assert.Single(listed)!["slug"]!.GetValue<string>());
        Assert.Equal(1, (await JsonAsync("apps", "publish", "harbor-hr"))["publishedVersion"]!.GetValue<int>());

        var changed = Write("changed.json", """{"slug": "harbor-hr", "name": "Harbor People", "kind": "knowledge-qa", "knowledgeBases": ["handbook"]}""");
        var updated = await JsonAsync("apps", "update", "harbor-hr", "-f", changed, "--note", "renamed");
        Assert.Equal((2, 1), (updated["version"]!.GetValue<int>(), updated["publishedVersion"]!.GetValue<int>()));
        Assert.Equal("Harbor People", (await JsonAsync("apps", "show", "harbor-hr"))["definition"]!["name"]!.GetValue<string>());
        Assert.Equal("Harbor HR", (await JsonAsync("apps", "show", "harbor-hr", "--version", "1"))["definition"]!["name"]!.GetValue<string>());
        var diff = await JsonAsync("apps", "diff", "harbor-hr", "--from", "1", "--to", "2");
        Assert.Contains(diff["changes"]!.AsArray(), c => c!["path"]!.GetValue<string>() == "$.name" && c["after"]!.GetValue<string>() == "Harbor People");
        Assert.Equal(2, (await JsonAsync("apps", "publish", "harbor-hr", "--version", "2"))["publishedVersion"]!.GetValue<int>());
        Assert.Equal(1, (await JsonAsync("apps", "rollback", "harbor-hr", "--version", "1"))["publishedVersion"]!.GetValue<int>());

        var (code, stdout, _) = await RunAsync(["apps", "create", "-f", Definition("harbor-hr"), "--json"]);
        Assert.Equal(1, code);
        Assert.Equal(409, JsonNode.Parse(stdout)!["error"]!["status"]!.GetValue<int>());
        var table = await RunAsync(["apps", "list"]);
        Assert.Equal(0, table.Code);
        Assert.Contains("harbor-hr", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_template_becomes_an_app_with_the_file_overriding_its_placeholders()
    {
        var overrides = Write("overrides.json", """{"knowledgeBases": ["handbook"], "model": "chat"}""");
        var created = await JsonAsync("apps", "create", "--template", "hr-policy-qa", "--language", "zh-Hant", "-f", overrides);
        Assert.Equal("hr-policy-qa", created["slug"]!.GetValue<string>());
        Assert.Equal("人資政策問答", (await JsonAsync("apps", "show", "hr-policy-qa"))["definition"]!["name"]!.GetValue<string>());
        var mapped = await JsonAsync("apps", "create", "--template", "customer-service-faq", "--language", "en", "--map-kb", "customer-faq=handbook",
            "--map-model", "chat=chat-short");
        var faq = (await JsonAsync("apps", "show", mapped["slug"]!.GetValue<string>()))["definition"]!;
        Assert.Equal("chat-short", faq["model"]!.GetValue<string>());
        Assert.Single(faq["knowledgeBases"]!.AsArray());
        var (code, stdout, _) = await RunAsync(["apps", "create", "--template", "hr-policy-qa", "--json"]);
        Assert.Equal(1, code); // the placeholder knowledge base does not exist
        Assert.Equal(404, JsonNode.Parse(stdout)!["error"]!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Export_and_import_move_an_app_to_another_workspace()
    {
        await JsonAsync("apps", "create", "-f", Definition("harbor-hr"));
        await JsonAsync("workspaces", "create", "branch");
        var file = Path.Combine(_dir, "harbor.mulan-app.zip");
        var exported = await JsonAsync("apps", "export", "harbor-hr", "-o", file, "--documents", "--evaluation");
        Assert.Equal((1, 1, 0), (exported["version"]!.GetValue<int>(), exported["documents"]!.GetValue<int>(), exported["evaluationItems"]!.GetValue<int>()));
        Assert.Equal(new FileInfo(file).Length, exported["bytes"]!.GetValue<long>());

        var imported = await JsonAsync("apps", "import", file, "--workspace", "branch");
        Assert.Equal("harbor-hr", imported["app"]!["slug"]!.GetValue<string>());
        Assert.True(imported["knowledgeBases"]![0]!["created"]!.GetValue<bool>());
        var (code, stdout, stderr) = await RunAsync(["apps", "import", file, "--workspace", "branch", "--slug", "harbor-two", "--map-kb", "nothing=handbook"]);
        Assert.Equal(1, code);
        Assert.Contains("the package names no knowledge base 'nothing'", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
        var taken = await RunAsync(["apps", "import", file, "--workspace", "branch", "--json"]);
        Assert.Equal(409, JsonNode.Parse(taken.Stdout)!["error"]!["status"]!.GetValue<int>());
        var shared = await JsonAsync("apps", "import", file, "--workspace", "default", "--slug", "harbor-copy", "--map-kb", "handbook=handbook");
        Assert.False(shared["knowledgeBases"]![0]!["created"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Chat_reads_questions_from_piped_stdin_streams_answers_and_keeps_the_conversation()
    {
        await JsonAsync("apps", "create", "-f", Definition("harbor-hr"));
        await JsonAsync("apps", "publish", "harbor-hr");
        _env["MULAN_KEY"] = await _host.CreateKeyAsync();
        var session = await JsonWithInputAsync("How many days of paid annual leave do employees get?\n\nHow much is a hotel night reimbursed?\n/exit\nnever asked\n",
            "apps", "chat", "harbor-hr");
        var turns = session["turns"]!.AsArray();
        Assert.Equal(2, turns.Count);
        Assert.Contains("twenty days", turns[0]!["answer"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("600 CNY", turns[1]!["answer"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotEmpty(turns[0]!["citations"]!.AsArray());
        var conversation = session["conversationId"]!.GetValue<string>();
        var stored = await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/harbor-hr/conversations/{conversation}");
        Assert.NotNull(stored);

        var (code, stdout, stderr) = await RunAsync(["apps", "chat", "harbor-hr"], "How many days of paid annual leave do employees get?\n");
        Assert.True(code == 0, stderr);
        Assert.Contains("twenty days", stdout, StringComparison.Ordinal);
        Assert.Contains("[1] Harbor Ltd handbook", stdout, StringComparison.Ordinal);
    }
}
