using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Knowledge.Retrieval;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge.Vectors;

public sealed class RerankTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("{\"ranking\": [3, 1]}", new[] { 2, 0 })]
    [InlineData("Sure! ```json\n{\"ranking\":[2,2,9,1,0]}\n```", new[] { 1, 0 })]
    [InlineData("The best are [3] then [2].", new[] { 2, 1 })]
    [InlineData("{\"ranking\": \"3,1\"}", new[] { 2, 0 })] // not an array: the numbers of the text, in order
    public void A_reply_becomes_an_order_of_known_candidates(string reply, int[] expected) =>
        Assert.Equal(expected, LlmReranker.ParseRanking(reply, 3));

    [Theory]
    [InlineData("")]
    [InlineData("the quick brown fox")]
    [InlineData("{\"ranking\": []}")]
    [InlineData("{\"ranking\": [7, 8]}")]
    public void A_reply_without_a_usable_ranking_gives_none(string reply) => Assert.Null(LlmReranker.ParseRanking(reply, 3));

    [Fact]
    public void Ranked_candidates_come_first_and_the_rest_keep_their_fused_order()
    {
        var candidates = Enumerable.Range(1, 4).Select(i => new SearchResult(
            new IndexedChunk(i, "kb", "doc", "t", $"text {i}", null, null), 1.0 / i, new SearchExplanation(1, i, [], null, null, i))).ToList();
        var reranked = LlmReranker.Apply(candidates, [2, 3]);
        Assert.Equal([3L, 4L, 1L, 2L], reranked.Select(r => r.Chunk.Id));
        Assert.Equal([1, 2, (int?)null, null], reranked.Select(r => r.Explanation.RerankRank));
        Assert.Equal([3, 4, 1, 2], reranked.Select(r => r.Explanation.FusedRank));
    }

    private async Task<string> CreateAsync(object body)
    {
        var response = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        foreach (var (text, i) in new[] { "员工每年享有十五天带薪年假。", "年假需提前三个工作日申请。", "食堂中午供应午餐。" }.Select((t, i) => (t, i)))
        {
            // Distinct titles: a text with the title of one already there would replace it.
            var added = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{id}/documents", new { title = $"t{i}", text });
            var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
            Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, id, doc))["status"]!.GetValue<string>());
        }
        return id;
    }

    private async Task<JsonObject> SearchAsync(string kb, object body) =>
        (await (await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", body)).Content.ReadFromJsonAsync<JsonObject>())!;

    [Fact]
    public async Task The_rerank_model_is_called_through_the_gateway_and_an_unusable_reply_keeps_the_fused_order()
    {
        var plain = await CreateAsync(new { name = "plain", embeddingModel = "none" });
        var reranked = await CreateAsync(new { name = "reranked", embeddingModel = "none", rerankModel = "chat" });
        Assert.Equal("chat", (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{reranked}"))!["rerankModel"]!.GetValue<string>());

        var expected = await SearchAsync(plain, new { query = "年假" });
        var result = await SearchAsync(reranked, new { query = "年假" });
        // The fake vendor answers with words, not a ranking: the search says so and keeps its order.
        Assert.Contains("did not reply with a ranking", result["warning"]!.GetValue<string>());
        Assert.Equal(expected["results"]!.AsArray().Select(r => r!["text"]!.GetValue<string>()), result["results"]!.AsArray().Select(r => r!["text"]!.GetValue<string>()));
        var chat = (await _host.WaitForRecordsAsync(1)).Where(r => r["endpoint"]!.GetValue<string>() == "chat.completions").ToList();
        var call = Assert.Single(chat);
        Assert.Equal("chat", call["model"]!.GetValue<string>());
        Assert.StartsWith("service-knowledge-", call["key"]!.GetValue<string>());

        // rerank:false skips the call.
        var skipped = await SearchAsync(reranked, new { query = "年假", rerank = false });
        Assert.Null(skipped["warning"]);
        Assert.Single(await _host.UsageRecordsAsync(), r => r["endpoint"]!.GetValue<string>() == "chat.completions");
    }

    [Fact]
    public async Task A_failing_rerank_model_degrades_to_the_fused_order_and_bad_names_change_nothing()
    {
        var kb = await CreateAsync(new { name = "failing", embeddingModel = "none", rerankModel = "chat-500" });
        var result = await SearchAsync(kb, new { query = "年假" });
        Assert.Contains("rerank skipped: model 'chat-500' could not rank", result["warning"]!.GetValue<string>());
        Assert.NotEmpty(result["results"]!.AsArray());

        var bad = await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { rerankModel = "nope", embeddingModel = "none" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("rerankModel", await bad.Content.ReadAsStringAsync());
        Assert.Equal("chat-500", (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}"))!["rerankModel"]!.GetValue<string>());

        var huge = await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { rerankModel = new string('x', 5000) });
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.DoesNotContain(new string('x', 300), await huge.Content.ReadAsStringAsync());

        var cleared = await _host.Admin.PatchAsJsonAsync($"api/knowledge-bases/{kb}", new { rerankModel = "none" });
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Equal("none", (await cleared.Content.ReadFromJsonAsync<JsonObject>())!["rerankModel"]!.GetValue<string>());
        Assert.Null((await SearchAsync(kb, new { query = "年假" }))["warning"]);
    }
}
