using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Knowledge;

/// <summary>The real executable's <c>kb</c> verbs against a running server, including the seeded demo handbook.</summary>
public sealed class KbCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-kb-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Ingest_a_folder_with_a_summary_then_search_and_ask()
    {
        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}";
        var env = new Dictionary<string, string?> { ["MULAN_URL"] = url, ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
        await using var server = MulanProcess.Start(["serve", "--data", Path.Combine(_dir, "data"), "--urls", url], env);
        await server.WaitHealthyAsync(new Uri(url + "/"));

        var folder = Directory.CreateDirectory(Path.Combine(_dir, "docs")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "travel.md"), "# Travel\n\nTrain tickets are booked through the travel desk at least five days ahead.");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        await File.WriteAllTextAsync(Path.Combine(folder, "sub", "会议室.txt"), "三楼会议室需要提前一天在系统中预约。");
        await File.WriteAllBytesAsync(Path.Combine(folder, "broken.pdf"), [0x25, 0x50, 0x44, 0x46, 0x2D, 0x31, 0x2E]);
        await File.WriteAllTextAsync(Path.Combine(folder, ".hidden.md"), "never ingested");

        var (createCode, _, createErr) = await MulanProcess.RunAsync(["kb", "create", "office"], env);
        Assert.True(createCode == 0, createErr);

        var (code, stdout, stderr) = await MulanProcess.RunAsync(["kb", "ingest", "office", folder, "--json"], env);
        Assert.True(code == 1, stdout + stderr); // one document failed
        var summary = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal(3, summary["files"]!.GetValue<int>());
        Assert.Equal(2, summary["ready"]!.GetValue<int>());
        Assert.Equal(1, summary["failed"]!.GetValue<int>());
        Assert.EndsWith("broken.pdf", summary["failures"]![0]!["file"]!.GetValue<string>());

        var (tableCode, table, _) = await MulanProcess.RunAsync(["kb", "ingest", "office", Path.Combine(folder, "travel.md")], env);
        Assert.Equal(0, tableCode);
        Assert.Contains("1 unchanged", table); // the same file again: nothing to ingest

        var (searchCode, search, _) = await MulanProcess.RunAsync(["kb", "search", "office", "会议室 预约", "--json"], env);
        Assert.Equal(0, searchCode);
        Assert.Contains("三楼会议室", JsonNode.Parse(search)!["results"]![0]!["text"]!.GetValue<string>());

        var (askCode, ask, _) = await MulanProcess.RunAsync(["kb", "ask", "office", "How early must train tickets be booked?"], env);
        Assert.Equal(0, askCode);
        Assert.Contains("five days ahead", ask);
        Assert.Contains("[1]", ask);

        var (hybridCode, hybrid, _) = await MulanProcess.RunAsync(["kb", "search", "office", "How early must train tickets be booked?"], env);
        Assert.Equal(0, hybridCode);
        Assert.Contains("vector #", hybrid); // the default knowledge base explains both rankings

        var (updateCode, update, updateErr) = await MulanProcess.RunAsync(["kb", "update", "office", "--embedding-model", "none"], env);
        Assert.True(updateCode == 0, updateErr);
        Assert.Contains("embedding model none", update);
        var (noFlagsCode, _, noFlagsErr) = await MulanProcess.RunAsync(["kb", "update", "office"], env);
        Assert.Equal(1, noFlagsCode);
        Assert.Contains("--embedding-model", noFlagsErr);
        var (badModelCode, _, badModelErr) = await MulanProcess.RunAsync(["kb", "update", "office", "--rerank-model", "no-such-model"], env);
        Assert.Equal(1, badModelCode);
        Assert.Contains("no model 'no-such-model'", badModelErr);

        var (missingCode, _, missingErr) = await MulanProcess.RunAsync(["kb", "ingest", "nope", folder], env);
        Assert.Equal(1, missingCode);
        Assert.Contains("404", missingErr);

        // The demo handbook seeded on first start answers in Chinese too (it may still be ingesting at first).
        string answer = "";
        for (var attempt = 0; attempt < 50 && !answer.Contains("十五天", StringComparison.Ordinal); attempt++)
        {
            (_, answer, _) = await MulanProcess.RunAsync(["kb", "ask", "handbook", "入职满一年的员工每年有几天年假？"], env);
            await Task.Delay(200);
        }
        Assert.Contains("十五天", answer);
    }
}
