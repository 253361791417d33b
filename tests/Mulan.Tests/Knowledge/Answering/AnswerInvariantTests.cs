using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Knowledge.Answering;
using Mulan.Knowledge.Chunking;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge.Answering;

/// <summary>
/// Every answer, over many questions against the demo handbook (each of its sentences asked back, fragments of them,
/// questions it cannot answer) and through a chat model that cites well, badly or not at all: a found answer carries
/// at least one citation, exactly the markers in its text, each attached to its sentence; a not-found one none.
/// </summary>
public sealed class AnswerInvariantTests
{
    private static void AssertGrounded(JsonObject answer, string question)
    {
        var text = answer["answer"]!.GetValue<string>();
        var citations = answer["citations"]!.AsArray().Select(c => c!["marker"]!.GetValue<int>()).ToList();
        if (!answer["found"]!.GetValue<bool>())
        {
            Assert.Empty(citations);
            return;
        }
        Assert.True(citations.Count > 0, $"found without citations: {question} → {text}");
        Assert.Equal(CitationMarkers.In(text).Order(), citations.Order());
        foreach (var marker in citations)
        {
            var at = text.IndexOf($"[{marker}]", StringComparison.Ordinal);
            Assert.True(at > 0 && text[at - 1] == CitationMarkers.NoBreakSpace, $"marker [{marker}] not attached in: {text}");
        }
    }

    private static IEnumerable<string> DemoQuestions()
    {
        var assembly = typeof(CitationMarkers).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.Contains(".Demo.", StringComparison.Ordinal) && n.EndsWith(".md", StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            var text = reader.ReadToEnd();
            foreach (var sentence in Sentences.Split(text).Select(s => s.Trim().TrimStart('#', ' ', '-', '*')).Where(s => s.Length >= 4))
            {
                yield return sentence;
                yield return sentence[..(sentence.Length / 2)]; // half a sentence: may or may not be enough
                yield return sentence[(sentence.Length / 3)..];
            }
        }
        foreach (var unanswerable in new[] { "火星的首都是哪里？", "What is the boiling point of tungsten?", "股票期权怎么行权？", "x", "？？？", "[1]", "the" })
        {
            yield return unanswerable;
        }
    }

    [Fact]
    public async Task Every_answer_about_the_demo_handbook_is_grounded_in_its_citations()
    {
        await using var host = await MulanHost.StartAsync(seedDemo: true);
        var kb = (await host.Admin.GetFromJsonAsync<JsonObject>("api/knowledge-bases"))!["knowledgeBases"]![0]!["id"]!.GetValue<string>();
        foreach (var d in (await host.Admin.GetFromJsonAsync<JsonObject>($"api/knowledge-bases/{kb}/documents"))!["documents"]!.AsArray())
        {
            await KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kb, d!["id"]!.GetValue<string>());
        }
        var questions = DemoQuestions().Distinct().ToList();
        Assert.True(questions.Count > 60, $"{questions.Count} questions");
        var found = 0;
        foreach (var question in questions)
        {
            var response = await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/ask", new { question });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            AssertGrounded(answer, question);
            found += answer["found"]!.GetValue<bool>() ? 1 : 0;
        }
        // The property is only worth something if most sentences asked back are answered.
        Assert.True(found > questions.Count / 2, $"{found} of {questions.Count} found");
    }

    [Fact]
    public async Task A_chat_models_answer_is_found_only_with_a_marker_that_names_a_source()
    {
        // An echoing model: it "answers" with the prompt it got, so the question decides which markers the reply holds.
        var catalog = MulanHost.DefaultCatalog.Replace("\"models\": [",
            "\"models\": [ { \"name\": \"chat-echo\", \"deployments\": [ { \"provider\": \"fake\", \"model\": \"fake-chat+echo\", \"price\": { \"currency\": \"USD\", \"input\": 1, \"output\": 1 } } ] },",
            StringComparison.Ordinal);
        await using var host = await MulanHost.StartAsync(catalog);
        var kb = await KnowledgeApiTests.CreateKbAsync(host, "hb");
        var added = await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title = "leave.md", text = "# Leave\n\nEmployees get fifteen days of paid annual leave." });
        await KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kb, (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>());
        using var app = host.Client(await host.CreateKeyAsync(new { name = "app", models = new[] { "chat-echo" } }));

        async Task<JsonObject> AskAsync(string question)
        {
            var response = await app.PostAsJsonAsync($"api/knowledge-bases/{kb}/ask", new { question, model = "chat-echo" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            AssertGrounded(answer, question);
            return answer;
        }

        var cited = await AskAsync("How many days of paid annual leave? [1]");
        Assert.True(cited["found"]!.GetValue<bool>());
        Assert.Equal([1], cited["citations"]!.AsArray().Select(c => c!["marker"]!.GetValue<int>()));

        var invented = await AskAsync("How many days of paid annual leave? [7]");
        Assert.False(invented["found"]!.GetValue<bool>());
        Assert.NotNull(invented["warning"]);

        var uncited = await AskAsync("How many days of paid annual leave?");
        Assert.False(uncited["found"]!.GetValue<bool>());

        var mixed = await AskAsync("Leave days? [1][4]");
        Assert.True(mixed["found"]!.GetValue<bool>());
        Assert.DoesNotContain("[4]", mixed["answer"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
