using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Apps;

/// <summary>The official <c>openai</c> npm package chats with an app: citations, a streamed multi-turn follow-up, feedback.</summary>
public sealed class AppNodeClientTests
{
    private static string NodeFolder([CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "node"));

    [Fact]
    public async Task Openai_npm_package_chats_with_an_app_across_turns_and_gives_feedback()
    {
        await using var host = await AppTestKit.StartAsync();
        using var created = await host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "hr" });
        var kb = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        foreach (var (title, text) in new[] { ("病假", "病假超過兩天須經人事部批准。"), ("加班", "加班須經主管事先批准。加班按一點五倍計薪。") })
        {
            using var added = await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { title, text });
            var doc = (await added.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!["id"]!.GetValue<string>();
            await Knowledge.KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kb, doc);
        }
        await AppTestKit.PublishAsync(host, new { slug = "hr", name = "HR", kind = "knowledge-qa", model = "chat-cite", knowledgeBases = new[] { "hr" } });
        var folder = NodeFolder();
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "openai")))
        {
            var (installCode, installOutput) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder, []);
            Assert.True(installCode == 0, "npm ci failed: " + installOutput);
        }
        var key = await host.CreateKeyAsync(new { name = "node", models = new[] { "app:hr" } });
        var (code, output) = await RunAsync("node", ["openai-app-client.mjs"], folder,
            new() { ["MULAN_BASE_URL"] = host.V1.ToString().TrimEnd('/'), ["MULAN_KEY"] = key });
        Assert.True(code == 0, output);
        var result = JsonNode.Parse(output.Trim().Split('\n')[^1])!;

        Assert.Contains("主管事先批准", result["first"]!["text"]!.GetValue<string>());
        Assert.Equal("加班", result["first"]!["citations"]![0]!["title"]!.GetValue<string>());
        var conversation = result["first"]!["conversation"]!.GetValue<string>();
        Assert.Equal(conversation, result["followUp"]!["conversation"]!.GetValue<string>());
        Assert.Equal("加班", result["followUp"]!["citations"]![0]!["title"]!.GetValue<string>());
        Assert.Contains("主管", result["followUp"]!["text"]!.GetValue<string>());
        Assert.Equal("up", result["feedback"]!["rating"]!.GetValue<string>());
        var stored = await host.Admin.GetFromJsonAsync<JsonObject>("api/feedback?app=hr");
        Assert.Equal("clear", stored!["feedback"]![0]!["comment"]!.GetValue<string>());
        Assert.Equal("node-user", stored["feedback"]![0]!["user"]!.GetValue<string>());
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, string folder, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
