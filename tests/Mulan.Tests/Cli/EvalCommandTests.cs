using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Support;

namespace Mulan.Tests.Cli;

/// <summary>The real <c>mulan eval</c> verbs against a running server: import a CSV, run it on a model route with thresholds, show, compare.</summary>
public sealed class EvalCommandTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private Dictionary<string, string?> _env = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _host = await AppTestKit.StartAsync();
        _env = new Dictionary<string, string?> { ["MULAN_URL"] = _host.BaseUrl.ToString(), ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
        _dir = Directory.CreateTempSubdirectory("mulan-eval-cli").FullName;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<JsonNode> JsonAsync(params string[] args)
    {
        var (code, stdout, stderr) = await MulanProcess.RunAsync([.. args, "--json"], _env);
        Assert.True(code == 0, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return JsonNode.Parse(stdout)!;
    }

    [Fact]
    public async Task A_csv_set_is_imported_run_on_a_model_route_and_its_thresholds_decide_the_exit_code()
    {
        var csv = Path.Combine(_dir, "set.csv");
        // chat-echo answers with the question, so every expected fact is found: factRecall 1.
        await File.WriteAllTextAsync(csv, "question,expectedFacts\nhello world,hello\nannual leave days,leave|days\n");
        var set = await JsonAsync("eval", "import", csv, "--name", "cli set", "--workspace", "default");
        var setId = set["id"]!.GetValue<string>();
        Assert.Equal(1, set["version"]!.GetValue<int>());

        var (failed, failedOut, failedErr) = await MulanProcess.RunAsync(["eval", "run", setId, "--model", "chat-echo", "--fail-under", "factRecall=1.01"], _env);
        Assert.True(failed == 3, $"exited {failed}: {failedErr}{failedOut}");
        Assert.Contains("factRecall", failedErr);
        Assert.Contains("factRecall", failedOut);

        var (passed, passedOut, passedErr) = await MulanProcess.RunAsync(["eval", "run", setId, "--model", "chat-echo", "--fail-under", "factRecall=0", "--json"], _env);
        Assert.True(passed == 0, $"exited {passed}: {passedErr}{passedOut}");
        var run = JsonNode.Parse(passedOut)!;
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(1.0, run["metrics"]!["factRecall"]!.GetValue<double>());

        var shown = await JsonAsync("eval", "show", run["id"]!.GetValue<string>());
        Assert.Equal(run["id"]!.GetValue<string>(), shown["id"]!.GetValue<string>());
        var (cmp, cmpOut, cmpErr) = await MulanProcess.RunAsync(["eval", "compare", run["id"]!.GetValue<string>(), run["id"]!.GetValue<string>()], _env);
        Assert.True(cmp == 0, $"compare exited {cmp}: {cmpErr}{cmpOut}");
        Assert.Contains("factRecall", cmpOut);
    }

    [Fact]
    public async Task An_unknown_metric_is_refused_before_anything_starts()
    {
        var (code, _, stderr) = await MulanProcess.RunAsync(["eval", "run", "evs_none", "--model", "chat-echo", "--fail-under", "accuracy=0.9"], _env);
        Assert.Equal(1, code);
        Assert.Contains("unknown metric 'accuracy'", stderr);
        // Nothing was started: the set does not even exist, and the refusal is not the server's.
        Assert.DoesNotContain("server", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_knowledge_base_is_evaluated_through_its_ask_from_a_jsonl_file()
    {
        var kb = await AppTestKit.KnowledgeBaseAsync(_host, "leave", "Staff get fifteen days of paid annual leave.");
        var jsonl = Path.Combine(_dir, "kb.jsonl");
        await File.WriteAllTextAsync(jsonl, """
            {"question": "How many days of annual leave?", "expectedFacts": ["fifteen days"], "expectedSources": ["leave"]}
            {"question": "quantum chromodynamics lattice gauge", "shouldRefuse": true}
            """);
        var setId = (await JsonAsync("eval", "import", jsonl, "--name", "kb", "--workspace", "default"))["id"]!.GetValue<string>();
        var run = await JsonAsync("eval", "run", setId, "--knowledge-base", "leave", "--fail-under", "sourceHit=1", "--fail-under", "refusalRecall=1");
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(kb, run["target"]!["knowledgeBase"]!.GetValue<string>());
        Assert.Equal(1.0, run["metrics"]!["sourceHit"]!.GetValue<double>());

        var (code, _, stderr) = await MulanProcess.RunAsync(["eval", "run", setId, "--app", "hr", "--knowledge-base", "leave"], _env);
        Assert.Equal(1, code);
        Assert.Contains("give one target", stderr);
    }
}
