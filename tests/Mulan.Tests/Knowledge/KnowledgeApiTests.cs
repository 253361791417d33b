using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge;

public sealed class KnowledgeApiTests : IAsyncLifetime
{
    private const string Handbook = """
        # 木兰科技员工手册

        ## 假期
        员工每年享有十五天带薪年假。请假需提前三个工作日在系统中申请。病假须提供医院证明。

        ## 報銷
        報銷單據須於當月二十五日前提交，逾期將順延至次月處理。出差住宿標準為每晚不超過六百元。

        ## Remote work
        Employees may work remotely two days a week. The office opens at 8:30 and closes at 19:00.
        """;

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    internal static async Task<string> CreateKbAsync(MulanHost host, string name, string? workspace = null)
    {
        var response = await host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name, workspace });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    internal static async Task<JsonObject> WaitForDocumentAsync(HttpClient http, string kb, string doc)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var d = (await http.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents/{doc}"))!;
            if (d["status"]!.GetValue<string>() is "ready" or "failed" || DateTime.UtcNow > deadline)
            {
                return d;
            }
            await Task.Delay(50);
        }
    }

    private async Task<string> AddTextAsync(string kb, string title, string text)
    {
        var response = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title, text });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var doc = (await response.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!;
        Assert.Equal("queued", doc["status"]!.GetValue<string>());
        return doc["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task Text_is_ingested_searched_with_explanations_and_answered_with_citations()
    {
        var kb = await CreateKbAsync(_host, "handbook");
        var doc = await AddTextAsync(kb, "handbook.md", Handbook);
        var ready = await WaitForDocumentAsync(_host.Admin, kb, doc);
        Assert.Equal("ready", ready["status"]!.GetValue<string>());
        Assert.True(ready["chunks"]!.GetValue<int>() >= 3);
        Assert.Equal("木兰科技员工手册", ready["title"]!.GetValue<string>());

        // Simplified question against the Traditional section, and the reverse.
        var search = await (await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "报销单据什么时候提交？", topK = 3 }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var top = search!["results"]![0]!;
        Assert.Contains("報銷單據", top["text"]!.GetValue<string>());
        Assert.Equal("木兰科技员工手册 › 報銷", top["section"]!.GetValue<string>());
        Assert.NotEmpty(top["explanation"]!["matchedTerms"]!.AsObject());
        Assert.Equal(1, top["explanation"]!["keywordRank"]!.GetValue<int>());

        var answer = (await (await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/ask", new { question = "員工每年有幾天帶薪年假？" }))
            .Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(answer["found"]!.GetValue<bool>());
        Assert.Contains("十五天", answer["answer"]!.GetValue<string>());
        var citations = answer["citations"]!.AsArray();
        Assert.NotEmpty(citations);
        foreach (var c in citations)
        {
            Assert.Contains($"[{c!["marker"]}]", answer["answer"]!.GetValue<string>());
        }
        // every quoted sentence is in the chunk its marker points at
        foreach (var part in answer["answer"]!.GetValue<string>().Split(']', StringSplitOptions.RemoveEmptyEntries))
        {
            var open = part.LastIndexOf("\u00A0[", StringComparison.Ordinal);
            var quote = part[..open].Trim();
            var marker = int.Parse(part[(open + 2)..], System.Globalization.CultureInfo.InvariantCulture);
            var cited = citations.Single(c => c!["marker"]!.GetValue<int>() == marker)!;
            Assert.Contains(quote, cited["text"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Questions_the_knowledge_base_cannot_answer_get_found_false()
    {
        var kb = await CreateKbAsync(_host, "handbook");
        await WaitForDocumentAsync(_host.Admin, kb, await AddTextAsync(kb, "handbook.md", Handbook));
        foreach (var question in new[] { "火星的首都是哪里？", "What is the boiling point of tungsten?" })
        {
            var answer = (await (await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/ask", new { question })).Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.False(answer["found"]!.GetValue<bool>(), question);
            Assert.Empty(answer["citations"]!.AsArray());
        }
    }

    [Fact]
    public async Task Another_workspaces_key_gets_404_everywhere_and_its_own_key_works()
    {
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" })).EnsureSuccessStatusCode();
        var kb = await CreateKbAsync(_host, "handbook");
        var doc = await AddTextAsync(kb, "handbook.md", Handbook);
        await WaitForDocumentAsync(_host.Admin, kb, doc);
        using var outsider = _host.Client(await _host.CreateKeyAsync(new { name = "outsider", workspace = "other" }));
        using var insider = _host.Client(await _host.CreateKeyAsync(new { name = "insider" }));

        Assert.Equal(HttpStatusCode.NotFound, (await outsider.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "年假" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.PostAsJsonAsync($"api/knowledge-bases/{kb}/ask", new { question = "年假几天" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"api/knowledge-bases/{kb}/documents/{doc}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"api/knowledge-bases/{kb}/documents")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"api/knowledge-bases/handbook")).StatusCode);
        Assert.Empty((await outsider.GetFromJsonAsync<JsonObject>("api/knowledge-bases"))!["knowledgeBases"]!.AsArray());

        Assert.Equal(HttpStatusCode.OK, (await insider.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "年假" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await insider.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = "x", text = "y" })).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "年假" })).StatusCode);
    }

    [Fact]
    public async Task Uploaded_files_are_parsed_and_a_bad_file_fails_alone_with_a_reason()
    {
        var kb = await CreateKbAsync(_host, "files");
        using var form = new MultipartFormDataContent
        {
            { new StringContent("# Policy\n\nVisitors must sign in at the front desk.", Encoding.UTF8, "text/markdown"), "files", "policy.md" },
            { new StringContent("<html><head><title>Menu</title><script>alert('x')</script></head><body><nav>Home</nav><h1>Canteen</h1><p>Lunch is served from noon.</p></body></html>", Encoding.UTF8, "text/html"), "files", "../../etc/canteen.html" },
            { new ByteArrayContent([0x25, 0x50, 0x44, 0x46, 0x2D, 0x31, 0x2E, 0x37, 0x0A, 0x31, 0x20, 0x30]), "files", "broken.pdf" },
        };
        var response = await _host.Admin.PostAsync($"api/knowledge-bases/{kb}/documents", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var docs = (await response.Content.ReadFromJsonAsync<JsonObject>())!["documents"]!.AsArray();
        Assert.Equal(3, docs.Count);
        var states = new List<JsonObject>();
        foreach (var d in docs)
        {
            states.Add(await WaitForDocumentAsync(_host.Admin, kb, d!["id"]!.GetValue<string>()));
        }
        Assert.Equal("ready", states[0]["status"]!.GetValue<string>());
        Assert.Equal("ready", states[1]["status"]!.GetValue<string>());
        Assert.Equal("canteen.html", states[1]["source"]!.GetValue<string>());
        Assert.Equal("failed", states[2]["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(states[2]["error"]!.GetValue<string>()));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_host.DataDirectory, "*", SearchOption.AllDirectories), p => p.Contains("canteen", StringComparison.Ordinal));

        var search = await (await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "lunch served" })).Content.ReadFromJsonAsync<JsonObject>();
        var text = search!["results"]![0]!["text"]!.GetValue<string>();
        Assert.Contains("Lunch is served from noon.", text);
        Assert.DoesNotContain("alert", text);
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]/")]
    [InlineData("http://10.1.2.3/")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://example.com/x")]
    [InlineData("http://user:pass@example.com/")]
    public async Task Url_ingestion_refuses_private_and_odd_targets(string url)
    {
        var kb = await CreateKbAsync(_host, "web");
        var response = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { url });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["url"]);
        Assert.Empty((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents"))!["documents"]!.AsArray());
    }

    [Theory]
    [InlineData("""{"query":""}""")]
    [InlineData("""{"query":"x","topK":0}""")]
    [InlineData("""{"query":"x","topK":500}""")]
    [InlineData("""{"topK":3}""")]
    public async Task Bad_search_requests_are_400(string body)
    {
        var kb = await CreateKbAsync(_host, "empty");
        var response = await _host.Admin.PostAsync($"api/knowledge-bases/{kb}/search", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Duplicate_knowledge_base_names_conflict_within_a_workspace()
    {
        await CreateKbAsync(_host, "dup");
        Assert.Equal(HttpStatusCode.Conflict, (await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "dup" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.PostAsJsonAsync("api/knowledge-bases/nope/search", new { query = "x" })).StatusCode);
    }
}
