using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge.Vectors;

/// <summary>The default knowledge base: the bundled local encoder beside BM25, offline.</summary>
public sealed class LocalHybridTests : IAsyncLifetime
{
    private static readonly string[] Policies =
    [
        "Staff may work from home on two days of each week, agreed with their manager.",
        "The cafeteria on the second floor serves lunch from 11:30 to 13:30.",
        "Expense claims must be filed before the 25th of the month.",
        "Visitors sign in at the front desk and wear a badge at all times.",
        "Annual leave is fifteen paid days, booked three working days ahead.",
        "员工每周可以在家办公两天，需经经理同意。",
    ];

    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_question_that_shares_no_word_with_its_answer_is_found_by_meaning()
    {
        var created = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "policies" });
        var kb = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("local-minilm", kb["embeddingModel"]!.GetValue<string>()); // the default
        var id = kb["id"]!.GetValue<string>();
        for (var i = 0; i < Policies.Length; i++)
        {
            var added = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{id}/documents", new { title = $"policy {i}", text = Policies[i] });
            var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
            Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(_host.Admin, id, doc))["status"]!.GetValue<string>());
        }

        const string Question = "Is telecommuting allowed?";
        var keyword = await SearchAsync(id, Question, "keyword");
        Assert.DoesNotContain(keyword["results"]!.AsArray(), r => r!["text"]!.GetValue<string>() == Policies[0]);

        var hybrid = await SearchAsync(id, Question, null);
        Assert.Equal("hybrid", hybrid["mode"]!.GetValue<string>());
        var top = hybrid["results"]![0]!;
        Assert.Equal(Policies[0], top["text"]!.GetValue<string>());
        Assert.Equal(1, top["explanation"]!["vectorRank"]!.GetValue<int>());
        Assert.Null(top["explanation"]!["keywordRank"]);

        // Chinese chunks get no vector from the English-only encoder, so they never surface by "meaning" alone.
        var vector = await SearchAsync(id, Question, "vector");
        Assert.Equal(3, vector["results"]!.AsArray().Count);
        Assert.DoesNotContain(vector["results"]!.AsArray(), r => r!["text"]!.GetValue<string>() == Policies[^1]);
        var all = await SearchAsync(id, Question, "vector", topK: 10);
        Assert.Equal(Policies.Length - 1, all["results"]!.AsArray().Count);

        // The bundled encoder is English-only: a Chinese query is answered by keywords, and says so when hybrid was asked for.
        var chinese = await SearchAsync(id, "年假有几天？", null);
        Assert.Equal("keyword", chinese["mode"]!.GetValue<string>());
        Assert.Null(chinese["warning"]);
        var asked = await SearchAsync(id, "年假有几天？", "hybrid");
        Assert.Equal("keyword", asked["mode"]!.GetValue<string>());
        Assert.Contains("English model", asked["warning"]!.GetValue<string>());

        // Local embeddings never leave the machine: nothing reached the vendor, nothing was metered.
        Assert.Empty(_host.Vendor.Ledger.Bills);
        Assert.Empty(await _host.UsageRecordsAsync());
    }

    [Theory]
    [InlineData("How many days of annual leave do I get?", false)]
    [InlineData("年假有几天", true)]
    [InlineData("員工的年假", true)]
    [InlineData("GPU 显卡 价格", true)] // 4 of 7 letters are CJK
    [InlineData("Mulan 的 API key 在哪里", false)] // 4 of 16 letters
    [InlineData("2024", false)]
    public void The_local_encoder_is_not_asked_about_mostly_Chinese_queries(string query, bool unsuited)
    {
        Assert.Equal(unsuited, Mulan.Knowledge.Embedding.KnowledgeEmbedder.Unsuited("local-minilm", query) is not null);
        Assert.Null(Mulan.Knowledge.Embedding.KnowledgeEmbedder.Unsuited("text-embedding-3-small", query));
    }

    private async Task<JsonObject> SearchAsync(string kb, string query, string? mode, int topK = 3)
    {
        var response = await _host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/search", new { query, mode, topK });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
