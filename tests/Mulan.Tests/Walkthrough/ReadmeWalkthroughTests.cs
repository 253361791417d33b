using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;

namespace Mulan.Tests.Walkthrough;

/// <summary>
/// The README's walkthrough, run verbatim: a fresh copy of the repository (the files git would clone, with the
/// working tree's changes), every <c>```sh</c> block from "## Install" to "## What is where" in order, with the
/// published <c>./bin/mulan</c>, on the default port. Ollama is the one thing not installed here: a fake one answers
/// on its default port, speaking its native protocol. Each block's output is checked, so the README cannot drift
/// from what Mulan does.
/// </summary>
public sealed class ReadmeWalkthroughTests
{
    private const int MulanPort = 5080;
    private const int OllamaPort = 11434;

    /// <summary>One check per block, in the README's order; a new or removed block must come with its check.</summary>
    private static readonly (string Starts, Func<ShellSession, BlockResult, FakeVendorServer, Task> Check)[] Steps =
    [
        ("dotnet publish src/Mulan -o bin", (shell, r, _) =>
        {
            Assert.True(File.Exists(Path.Combine(shell.Folder, "bin", "mulan")), "publish made no ./bin/mulan");
            return Task.CompletedTask;
        }),
        ("cat > mulan.json", (shell, r, _) =>
        {
            Assert.NotNull(JsonNode.Parse(File.ReadAllText(Path.Combine(shell.Folder, "mulan.json")))!["models"]);
            return Task.CompletedTask;
        }),
        ("export MULAN_ADMIN_KEY=", async (shell, r, _) =>
        {
            var log = await File.ReadAllTextAsync(shell.ServerLog);
            Assert.Contains("http://127.0.0.1:5080", log);
            Assert.Contains("chat-default → deepseek/deepseek-chat", log);
            Assert.Contains("qwen-local → ollama/qwen3:8b", log);
            Assert.Contains("from MULAN_ADMIN_KEY", log);
            Assert.DoesNotContain(await shell.VariableAsync("MULAN_ADMIN_KEY") ?? "unset", log);
        }),
        ("./bin/mulan kb ask handbook", (_, r, _) =>
        {
            Assert.Contains("十五天", r.Stdout);
            Assert.Contains("[1]", r.Stdout);
            return Task.CompletedTask;
        }),
        ("export MULAN_KEY=", async (shell, r, _) =>
        {
            var key = await shell.VariableAsync("MULAN_KEY");
            Assert.StartsWith("mk-", key);
            Assert.Contains("web-app", r.Stdout);
            Assert.DoesNotContain(key!, r.Stdout);
        }),
        ("curl -s http://127.0.0.1:5080/v1/chat/completions", (_, r, ollama) =>
        {
            var completion = JsonNode.Parse(r.Stdout)!;
            Assert.Equal("chat.completion", completion["object"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(completion["choices"]![0]!["message"]!["content"]!.GetValue<string>()));
            Assert.Single(ollama.Requests, q => q.Path == "/api/chat");
            return Task.CompletedTask;
        }),
        ("./bin/mulan usage", (_, r, _) =>
        {
            Assert.Matches(@"\b1 requests?\b", r.Stdout);
            Assert.Contains("qwen-local", r.Stdout);
            return Task.CompletedTask;
        }),
        ("./bin/mulan kb create mulan-docs", (_, r, _) =>
        {
            Assert.Contains("reset-key", r.Stdout);
            Assert.Contains("[1]", r.Stdout);
            return Task.CompletedTask;
        }),
    ];

    [Fact]
    public async Task The_readme_walkthrough_runs_verbatim_from_a_fresh_clone()
    {
        AssertFree(MulanPort);
        AssertFree(OllamaPort);
        var repository = RepositoryRoot();
        var clone = Directory.CreateTempSubdirectory("mulan-walkthrough-").FullName;
        try
        {
            await CopyTrackedFilesAsync(repository, clone);
            var blocks = ReadmeBlocks.Shell(await File.ReadAllTextAsync(Path.Combine(clone, "README.md")), "## Install", "## What is where");
            Assert.Equal(Steps.Select(s => s.Starts), blocks.Select(b => Steps.Select(s => s.Starts).FirstOrDefault(b.TrimStart().StartsWith) ?? b));

            await using var ollama = await FakeVendorServer.StartAsync(new FakeVendorOptions { Port = OllamaPort });
            await using var shell = new ShellSession(clone);
            for (var i = 0; i < blocks.Count; i++)
            {
                var result = await shell.RunAsync(blocks[i], i == 0 ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(2));
                Assert.True(result.ExitCode == 0, $"README block {i + 1} failed ({result.ExitCode}):\n{blocks[i]}\n--- stdout\n{result.Stdout}\n--- stderr\n{result.Stderr}");
                await Steps[i].Check(shell, result, ollama);
            }

            // The README's first command, `dotnet run --project src/Mulan`, starts the program in the project folder;
            // a relative path must still mean the folder the user is in: here the walkthrough's ./mulan-data.
            var reset = await shell.RunAsync("dotnet run --project src/Mulan -- admin reset-key --data mulan-data --json", TimeSpan.FromMinutes(15));
            Assert.True(reset.ExitCode == 0, reset.Stderr + reset.Stdout);
            var answer = JsonNode.Parse(reset.Stdout)!;
            Assert.Equal(Path.Combine(clone, "mulan-data"), answer["dataFolder"]!.GetValue<string>());
            Assert.False(Directory.Exists(Path.Combine(clone, "src", "Mulan", "mulan-data")));
            // This server was started with MULAN_ADMIN_KEY, which it keeps using; the reset is in its audit log.
            using var admin = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:5080/") };
            admin.DefaultRequestHeaders.Authorization = new("Bearer", await shell.VariableAsync("MULAN_ADMIN_KEY"));
            var audit = await admin.GetStringAsync("api/audit?action=admin.key_reset");
            Assert.Contains(Path.Combine(clone, "mulan-data"), audit);
            Assert.DoesNotContain(answer["key"]!.GetValue<string>(), audit);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(clone, recursive: true);
        }
    }

    private static void AssertFree(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
        }
        catch (SocketException)
        {
            Assert.Fail($"Port {port} is taken; the walkthrough uses the default ports (Mulan 5080, Ollama 11434). Stop what listens there.");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mulan.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Mulan.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>What a clone would hold: the files git tracks or would add (not ignored), as they are now.</summary>
    private static async Task CopyTrackedFilesAsync(string repository, string target)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = repository, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "ls-files", "-z", "--cached", "--others", "--exclude-standard" })
        {
            info.ArgumentList.Add(a);
        }
        using var git = Process.Start(info)!;
        var list = await git.StandardOutput.ReadToEndAsync();
        await git.WaitForExitAsync();
        Assert.Equal(0, git.ExitCode);
        foreach (var relative in list.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var source = Path.Combine(repository, relative);
            if (!File.Exists(source))
            {
                continue; // deleted in the working tree
            }
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(source, destination);
        }
    }
}
