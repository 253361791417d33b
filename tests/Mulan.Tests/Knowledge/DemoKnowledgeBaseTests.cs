using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge;

/// <summary>A fresh server answers questions about the bundled demo handbook offline, in all three scripts.</summary>
public sealed class DemoKnowledgeBaseTests
{
    [Fact]
    public async Task First_start_seeds_a_demo_handbook_that_answers_offline()
    {
        await using var host = await MulanHost.StartAsync(seedDemo: true);
        var kb = (await host.Admin.GetFromJsonAsync<JsonObject>("api/knowledge-bases"))!["knowledgeBases"]!.AsArray().Single()!;
        Assert.Equal("handbook", kb["name"]!.GetValue<string>());
        var kbId = kb["id"]!.GetValue<string>();
        var docs = (await host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kbId}/documents"))!["documents"]!.AsArray();
        Assert.Equal(3, docs.Count);
        foreach (var d in docs)
        {
            Assert.Equal("ready", (await KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kbId, d!["id"]!.GetValue<string>()))["status"]!.GetValue<string>());
        }
        foreach (var (question, expected) in new[]
        {
            ("入职满一年的员工每年有几天年假？", "十五天"),
            ("每年的學習預算是多少？", "八千元"),
            ("How many days a week can employees work remotely?", "two days a week"),
        })
        {
            var answer = (await (await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kbId}/ask", new { question })).Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(answer["found"]!.GetValue<bool>(), question);
            Assert.Contains(expected, answer["answer"]!.GetValue<string>());
        }
    }
}
