using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge.Vectors;

/// <summary>Knowledge bases whose vectors come from an embedding model on the gateway (the fake vendor's).</summary>
public sealed class GatewayEmbeddingTests : IAsyncLifetime
{
    private const string SlowRoute =
        "{ \"name\": \"embed-slow\", \"deployments\": [ { \"provider\": \"fake\", \"model\": \"fake-embed+firstbyte=150\", \"price\": { \"currency\": \"USD\", \"input\": 0.02, \"output\": 0 } } ] },\n";

    private static readonly string Catalog = MulanHost.DefaultCatalog.Replace("{ \"name\": \"embed\", ", SlowRoute + "{ \"name\": \"embed\", ", StringComparison.Ordinal);

    private static readonly string[] Paragraphs =
    [
        "员工每年享有十五天带薪年假，请假需提前三个工作日申请。",
        "報銷單據須於當月二十五日前提交，逾期將順延至次月處理。",
        "Employees may work remotely two days a week; the office opens at 8:30.",
        "The cafeteria on the second floor serves lunch from 11:30 to 13:30.",
        "新员工入职第一周由导师陪同完成安全培训与系统开户。",
        "會議室預約需在內部系統提交，單次最長兩小時。",
    ];

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync(Catalog, b => b.Configuration["Knowledge:EmbeddingBatchSize"] = "2");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<string> CreateAsync(string name, string embeddingModel, string? workspace = null)
    {
        var response = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name, workspace, embeddingModel });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var kb = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(embeddingModel, kb["embeddingModel"]!.GetValue<string>());
        return kb["id"]!.GetValue<string>();
    }

    private async Task IngestAsync(string kb, IEnumerable<string> paragraphs)
    {
        var ids = new List<string>();
        foreach (var (text, i) in paragraphs.Select((p, i) => (p, i)))
        {
            var response = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = $"p{i}.txt", text });
            ids.Add((await response.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>());
        }
        foreach (var id in ids)
        {
            var doc = await KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, kb, id);
            Assert.True(doc["status"]!.GetValue<string>() == "ready", doc.ToJsonString());
        }
    }

    private async Task<JsonObject> SearchAsync(string kb, string query, string? mode = null, int topK = 3)
    {
        var response = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query, topK, mode });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Vectors_come_from_the_gateway_on_the_workspace_service_key_and_are_searched_exactly()
    {
        var kb = await CreateAsync("gw", "embed");
        await IngestAsync(kb, Paragraphs);

        // The fake vendor's vectors are a hash of the text: only the identical text scores 1.
        var exact = await SearchAsync(kb, Paragraphs[3], "vector");
        Assert.Equal("vector", exact["mode"]!.GetValue<string>());
        var top = exact["results"]![0]!;
        Assert.Equal(Paragraphs[3], top["text"]!.GetValue<string>());
        Assert.Equal(1.0, top["explanation"]!["vectorScore"]!.GetValue<double>(), 4);
        Assert.Equal(1, top["explanation"]!["vectorRank"]!.GetValue<int>());
        Assert.Null(top["explanation"]!["keywordRank"]);

        // Hybrid: both rankings are explained, and the fused order is what is returned.
        var hybrid = await SearchAsync(kb, Paragraphs[1], topK: 6);
        Assert.Equal("hybrid", hybrid["mode"]!.GetValue<string>());
        var first = hybrid["results"]![0]!["explanation"]!;
        Assert.Equal(1, first["keywordRank"]!.GetValue<int>());
        Assert.Equal(1, first["vectorRank"]!.GetValue<int>());
        Assert.Equal(1, first["fusedRank"]!.GetValue<int>());
        var scores = hybrid["results"]!.AsArray().Select(r => r!["score"]!.GetValue<double>()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);

        // Every embedding call (probe, ingestion, queries) is a metered gateway call on the service key.
        var records = await _host.UsageRecordsAsync();
        var embeddings = records.Where(r => r["endpoint"]!.GetValue<string>() == "embeddings").ToList();
        Assert.NotEmpty(embeddings);
        Assert.All(embeddings, r => Assert.StartsWith("service-knowledge-", r["key"]!.GetValue<string>()));
        Assert.All(embeddings, r => Assert.Equal("embed", r["model"]!.GetValue<string>()));
        var vendorInputs = _host.Vendor.Ledger.Bills.Where(b => b.Endpoint == "embeddings").Sum(b => b.PromptTokens);
        Assert.Equal(vendorInputs, embeddings.Sum(r => r["inputTokens"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_model_that_cannot_embed_is_refused_when_it_is_chosen()
    {
        var unknown = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "x", embeddingModel = "no-such-model" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("no model 'no-such-model'", await unknown.Content.ReadAsStringAsync());

        var failing = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "y", embeddingModel = "chat-500" });
        Assert.Equal(HttpStatusCode.BadRequest, failing.StatusCode);
        Assert.Contains("could not embed a probe text", await failing.Content.ReadAsStringAsync());

        var kbs = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/knowledge-bases"))!["knowledgeBases"]!.AsArray();
        Assert.Empty(kbs);

        var kb = await CreateAsync("z", "embed");
        var patch = await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { embeddingModel = "chat-500" });
        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        var unchanged = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!;
        Assert.Equal("embed", unchanged["embeddingModel"]!.GetValue<string>());
        Assert.Null(unchanged["reembedding"]);
    }

    [Fact]
    public async Task Changing_the_model_re_embeds_in_the_background_while_searches_keep_answering()
    {
        var kb = await CreateAsync("switch", "embed");
        var many = Enumerable.Range(0, 4).SelectMany(round => Paragraphs.Select(p => $"{p} (第{round}版)")).ToList();
        await IngestAsync(kb, many);

        var patch = await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { embeddingModel = "embed-slow" });
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        var pending = (await patch.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("embed", pending["embeddingModel"]!.GetValue<string>());
        Assert.Equal("embed-slow", pending["reembedding"]!["model"]!.GetValue<string>());

        var searches = 0;
        var sawProgress = false;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var result = await SearchAsync(kb, "报销单据什么时候提交");
            Assert.Equal("hybrid", result["mode"]!.GetValue<string>());
            Assert.Contains("報銷單據", result["results"]![0]!["text"]!.GetValue<string>());
            searches++;
            var state = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!;
            if (state["reembedding"] is { } progress)
            {
                var embedded = progress["embedded"]!.GetValue<int>();
                Assert.Equal(many.Count, progress["chunks"]!.GetValue<int>()); // one chunk per short document
                Assert.InRange(embedded, 0, many.Count);
                sawProgress |= embedded > 0;
            }
            else
            {
                Assert.Equal("embed-slow", state["embeddingModel"]!.GetValue<string>());
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "re-embedding did not finish");
            await Task.Delay(100);
        }
        Assert.True(searches > 2, $"only {searches} searches ran during the switch");
        Assert.True(sawProgress);

        // Every chunk was embedded by the new model exactly once, and queries now use it.
        var slowInputs = _host.Vendor.Ledger.Bills.Where(b => b.Endpoint == "embeddings" && b.Model.Contains("firstbyte", StringComparison.Ordinal)).ToList();
        var before = slowInputs.Count;
        var after = await SearchAsync(kb, many[5], "vector");
        Assert.Equal(many[5], after["results"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(before + 1, _host.Vendor.Ledger.Bills.Count(b => b.Endpoint == "embeddings" && b.Model.Contains("firstbyte", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_restart_in_the_middle_of_re_embedding_resumes_where_it_stopped()
    {
        var kb = await CreateAsync("resume", "embed");
        var many = Enumerable.Range(0, 5).SelectMany(round => Paragraphs.Select(p => $"{p} (v{round})")).ToList();
        await IngestAsync(kb, many);
        Assert.Equal(HttpStatusCode.Accepted, (await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { embeddingModel = "embed-slow" })).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int embeddedBefore;
        do
        {
            await Task.Delay(100);
            embeddedBefore = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!["reembedding"]!["embedded"]!.GetValue<int>();
        }
        while (embeddedBefore < 6 && DateTime.UtcNow < deadline);
        Assert.InRange(embeddedBefore, 6, many.Count - 2);

        var data = _host.DataDirectory;
        var vendor = _host.Vendor;
        await _host.StopKeepingDataAsync();
        var slowCalls = vendor.Ledger.Bills.Count(b => b.Model.Contains("firstbyte", StringComparison.Ordinal));
        _host = await MulanHost.StartAsync(Catalog, b => b.Configuration["Knowledge:EmbeddingBatchSize"] = "2", vendor, data);

        var state = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!;
        Assert.True(state["reembedding"] is null || state["reembedding"]!["embedded"]!.GetValue<int>() >= embeddedBefore);
        deadline = DateTime.UtcNow.AddSeconds(120); // generous: the whole suite shares two cores
        while (state["reembedding"] is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            state = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!;
        }
        Assert.Equal("embed-slow", state["embeddingModel"]!.GetValue<string>());
        // After the restart only the chunks still missing were embedded (batches of 2; at most one batch was in flight).
        var afterRestart = vendor.Ledger.Bills.Count(b => b.Model.Contains("firstbyte", StringComparison.Ordinal)) - slowCalls;
        Assert.InRange(afterRestart, (many.Count - embeddedBefore - 2) / 2, ((many.Count - embeddedBefore) / 2) + 1);
    }

    [Fact]
    public async Task Vectors_survive_a_restart_without_being_embedded_again()
    {
        var kb = await CreateAsync("restart", "embed");
        await IngestAsync(kb, Paragraphs);
        var data = _host.DataDirectory;
        var vendor = _host.Vendor;
        await _host.StopKeepingDataAsync();
        var billsBefore = vendor.Ledger.Bills.Count;
        _host = await MulanHost.StartAsync(Catalog, vendor: vendor, dataDirectory: data);

        var found = await SearchAsync(kb, Paragraphs[4], "vector");
        Assert.Equal(Paragraphs[4], found["results"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(1.0, found["results"]![0]!["explanation"]!["vectorScore"]!.GetValue<double>(), 4);
        Assert.Equal(billsBefore + 1, vendor.Ledger.Bills.Count); // only the query was embedded
    }

    [Fact]
    public async Task A_vendor_outage_during_ingestion_is_retried_and_at_query_time_falls_back_to_keywords()
    {
        var kb = await CreateAsync("outage", "embed");
        _host.Vendor.Enqueue(new FakeFault.Status(503));
        await IngestAsync(kb, Paragraphs.Take(1));
        Assert.Contains("embedding failed, will try again", _host.Logs.Text);

        _host.Vendor.Enqueue(new FakeFault.Status(503));
        var degraded = await SearchAsync(kb, "带薪年假");
        Assert.Equal("keyword", degraded["mode"]!.GetValue<string>());
        Assert.Contains("vector search unavailable", degraded["warning"]!.GetValue<string>());
        Assert.Contains("带薪年假", degraded["results"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keyword_only_knowledge_bases_say_so_and_bad_modes_are_refused()
    {
        var kb = await CreateAsync("plain", "none");
        await IngestAsync(kb, Paragraphs.Take(2));
        var result = await SearchAsync(kb, "带薪年假");
        Assert.Equal("keyword", result["mode"]!.GetValue<string>());
        Assert.Null(result["warning"]);
        var asked = await SearchAsync(kb, "带薪年假", "hybrid");
        Assert.Equal("keyword", asked["mode"]!.GetValue<string>());
        Assert.Contains("no embedding model", asked["warning"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Ledger.Bills);

        var bad = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "x", mode = "semantic" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("mode", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Only_the_administrator_changes_a_model_and_other_workspaces_see_nothing()
    {
        var kb = await CreateAsync("mine", "embed");
        var ownKey = await _host.CreateKeyAsync();
        Assert.Equal(HttpStatusCode.Created, (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "other" })).StatusCode);
        var otherKey = await _host.CreateKeyAsync(new { name = "o", workspace = "other" });
        using var own = _host.Client(ownKey);
        using var other = _host.Client(otherKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await own.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { embeddingModel = "none" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { embeddingModel = "none" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query = "x", mode = "vector" })).StatusCode);
        Assert.Equal("embed", (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!["embeddingModel"]!.GetValue<string>());
    }
}
