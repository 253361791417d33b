using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge.Lifecycle;

/// <summary>The real executable's kb lifecycle verbs: one JSON document on stdout with --json, and the documented exit codes.</summary>
public sealed class KbLifecycleCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-kb-life-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The whole of stdout is one JSON document (parsing fails on anything before or after it).</summary>
    private static JsonNode OneJson(string stdout) => JsonNode.Parse(stdout)!;

    [Fact]
    public async Task Kb_verbs_manage_documents_and_print_exactly_one_json_document()
    {
        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}";
        var env = new Dictionary<string, string?> { ["MULAN_URL"] = url, ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
        await using var server = MulanProcess.Start(["serve", "--data", Path.Combine(_dir, "data"), "--urls", url], env);
        await server.WaitHealthyAsync(new Uri(url + "/"));
        async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args) => await MulanProcess.RunAsync(args, env);
        // Captured output is not wrapped unless COLUMNS asks for a width, as a terminal's would.
        async Task<(int Code, string Stdout, string Stderr)> RunNarrowAsync(params string[] args) =>
            await MulanProcess.RunAsync(args, new Dictionary<string, string?>(env) { ["COLUMNS"] = "60" });

        var file = Path.Combine(_dir, "travel.md");
        await File.WriteAllTextAsync(file, "# Travel\n\nTrain tickets for every business trip are booked through the travel desk on the third floor at least five working days ahead of the departure date.");
        var chinese = Path.Combine(_dir, "会议室.md");
        await File.WriteAllTextAsync(chinese, "# 会议室\n\n三楼的大会议室需要提前一天在内部系统中预约并填写会议主题和参会人数，超过半小时未使用的预约将被自动取消以便其他同事使用。");
        Assert.Equal(0, (await RunAsync("kb", "create", "office", "--embedding-model", "none")).Code);

        var (code, stdout, stderr) = await RunAsync("kb", "ingest", "office", file, chinese, "--json");
        Assert.True(code == 0, stdout + stderr);
        var first = OneJson(stdout);
        Assert.Equal(2, first["ready"]!.GetValue<int>());
        Assert.Equal(0, first["replaced"]!.GetValue<int>());

        (code, stdout, _) = await RunAsync("kb", "ingest", "office", file, "--json");
        Assert.Equal(0, code);
        Assert.Equal(1, OneJson(stdout)["unchanged"]!.GetValue<int>());
        Assert.Equal("unchanged", OneJson(stdout)["documents"]![0]!["status"]!.GetValue<string>());

        await File.AppendAllTextAsync(file, "\n\nFirst class needs the approval of a director.");
        (code, stdout, _) = await RunAsync("kb", "ingest", "office", file);
        Assert.Equal(0, code);
        Assert.Contains("1 ready", stdout);
        Assert.Contains("1 replaced", stdout);

        (code, stdout, _) = await RunAsync("kb", "list", "--json");
        Assert.Equal(0, code);
        Assert.Contains(OneJson(stdout)["knowledgeBases"]!.AsArray(), k => k!["name"]!.GetValue<string>() == "office");

        (code, stdout, _) = await RunAsync("kb", "docs", "office", "--json");
        Assert.Equal(0, code);
        var docs = OneJson(stdout)["documents"]!.AsArray();
        Assert.Equal(2, docs.Count);
        (code, stdout, _) = await RunAsync("kb", "docs", "office", "--status", "ready");
        Assert.Equal(0, code);
        Assert.Contains("travel.md", stdout);

        (code, stdout, _) = await RunAsync("kb", "rename-doc", "office", "travel.md", "Travel policy", "--json");
        Assert.Equal(0, code);
        Assert.Equal("Travel policy", OneJson(stdout)["title"]!.GetValue<string>());

        (code, stdout, _) = await RunAsync("kb", "ask", "office", "How early are train tickets booked through the travel desk?", "--json");
        Assert.Equal(0, code);
        Assert.True(OneJson(stdout)["found"]!.GetValue<bool>());
        foreach (var question in new[] { "How early are train tickets booked through the travel desk?", "大会议室需要提前多久在系统中预约？" })
        {
            (code, stdout, _) = await RunNarrowAsync("kb", "ask", "office", question);
            Assert.Equal(0, code);
            var lines = stdout.Split('\n');
            Assert.Contains(lines, l => l.Contains("\u00A0[1]", StringComparison.Ordinal));
            // Answer lines start at column 0; the citation list below them is indented. A marker never starts a line of the answer.
            Assert.DoesNotContain(lines, l => l.StartsWith('['));
            Assert.True(lines.Count(l => l.Length > 0 && !l.StartsWith(' ')) >= 2, stdout); // long enough to have wrapped
        }

        (code, _, stderr) = await RunAsync("kb", "ask", "office", "How early?", "--model", "chat");
        Assert.Equal(1, code);
        Assert.Contains("--key", stderr);

        (code, stdout, _) = await RunAsync("kb", "delete-doc", "office", "travel.md", "--json");
        Assert.Equal(0, code);
        Assert.Single(OneJson(stdout)["deleted"]!.AsArray());
        (code, stdout, _) = await RunAsync("kb", "docs", "office", "--json");
        Assert.Single(OneJson(stdout)["documents"]!.AsArray());

        (code, stdout, stderr) = await RunAsync("kb", "docs", "office", "--status", "done", "--json");
        Assert.Equal(1, code);
        Assert.NotNull(OneJson(stdout)["error"]);
        Assert.Contains("--status", stderr);

        (code, stdout, _) = await RunAsync("kb", "delete", "office", "--json");
        Assert.Equal(0, code);
        Assert.Equal(1, OneJson(stdout)["documents"]!.GetValue<int>());
        (code, stdout, stderr) = await RunAsync("kb", "docs", "office", "--json");
        Assert.Equal(1, code); // the server said 404
        Assert.Contains("404", OneJson(stdout)["error"]!["message"]!.GetValue<string>());
        (code, _, _) = await RunAsync("kb", "delete", "office");
        Assert.Equal(1, code);

        (code, stdout, _) = await MulanProcess.RunAsync(["kb", "list", "--json", "--server", $"http://127.0.0.1:{MulanProcess.FreePort()}"], env);
        Assert.Equal(2, code); // nothing listens there: a system error
        Assert.Equal(2, OneJson(stdout)["error"]!["exitCode"]!.GetValue<int>());
    }
}
