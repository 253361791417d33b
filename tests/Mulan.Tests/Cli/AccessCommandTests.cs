using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Tests.Support;

namespace Mulan.Tests.Cli;

/// <summary>The real <c>mulan</c> executable's access, catalog, usage and audit verbs against a running server.</summary>
public sealed class AccessCommandTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-access-cli-").FullName;
    private MulanHost _host = null!;
    private Dictionary<string, string?> _env = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _env = new Dictionary<string, string?> { ["MULAN_URL"] = _host.BaseUrl.ToString(), ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args) => MulanProcess.RunAsync(args, _env);

    /// <summary>Runs a verb with --json: exit 0 and exactly one JSON document on stdout, on one line, with nothing else.</summary>
    private async Task<JsonNode> JsonAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync([.. args, "--json"]);
        Assert.True(code == 0, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return OneDocument(stdout, args);
    }

    private static JsonNode OneDocument(string stdout, string[] args)
    {
        var lines = stdout.Split('\n');
        Assert.True(lines.Length == 2 && lines[1] == "" && lines[0].Length > 0 && !char.IsWhiteSpace(lines[0][0]),
            $"mulan {string.Join(' ', args)} --json printed more than one line: [{stdout}]");
        using var doc = JsonDocument.Parse(lines[0]); // throws on anything after the first value
        return JsonNode.Parse(lines[0])!;
    }

    [Fact]
    public async Task Every_verb_with_json_prints_exactly_one_json_document()
    {
        Assert.Equal("acme", (await JsonAsync("workspaces", "create", "acme"))["name"]!.GetValue<string>());
        await JsonAsync("workspaces");
        Assert.Equal(2, (await JsonAsync("workspaces", "list"))["workspaces"]!.AsArray().Count);
        Assert.Equal("acme-cn", (await JsonAsync("workspaces", "rename", "acme", "acme-cn"))["name"]!.GetValue<string>());

        var created = await JsonAsync("keys", "create", "--name", "web", "--workspace", "acme-cn", "--models", "chat", "--budget", "5USD/month");
        var secret = created["key"]!.GetValue<string>();
        await JsonAsync("keys");
        Assert.Single((await JsonAsync("keys", "list", "--workspace", "acme-cn"))["keys"]!.AsArray());
        var updated = await JsonAsync("keys", "update", "web", "--rpm", "30", "--all-models", "--no-budget");
        Assert.Equal(30, updated["rpm"]!.GetValue<int>());
        Assert.Null(updated["models"]);
        Assert.Null(updated["budget"]);
        var rotated = await JsonAsync("keys", "rotate", "web");
        Assert.Equal(created["id"]!.GetValue<string>(), rotated["id"]!.GetValue<string>());
        Assert.NotEqual(secret, rotated["key"]!.GetValue<string>());
        using (var http = _host.Client(rotated["key"]!.GetValue<string>()))
        {
            (await http.PostAsJsonAsync("v1/chat/completions", new { model = "chat-short", messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();
        }

        _env["EXTRA_KEY"] = _host.Vendor.ApiKey;
        await JsonAsync("providers");
        var provider = await JsonAsync("providers", "add", "extra", "--kind", "openai", "--base-url", _host.Vendor.BaseUrl.ToString(), "--api-key-env", "EXTRA_KEY");
        Assert.True(provider["hasApiKey"]!.GetValue<bool>());
        Assert.DoesNotContain(_host.Vendor.ApiKey, (await JsonAsync("providers", "list")).ToJsonString());

        await JsonAsync("models");
        var flags = await JsonAsync("models", "add", "extra-chat", "--provider", "extra", "--model", "fake-chat", "--input", "1", "--output", "2", "--currency", "usd");
        Assert.Equal("extra-chat", flags["models"]![0]!["name"]!.GetValue<string>());
        var file = Path.Combine(_dir, "models.json");
        await File.WriteAllTextAsync(file, """
            { "models": [
              // comments and trailing commas, as in the configuration file
              { "name": "extra-embed", "deployments": [ { "provider": "extra", "model": "fake-embed", "price": { "currency": "USD", "input": 0.02, "output": 0 } } ] },
            ] }
            """);
        Assert.Equal("extra-embed", (await JsonAsync("models", "add", "-f", file))["models"]![0]!["name"]!.GetValue<string>());
        Assert.Contains("extra-chat", (await JsonAsync("models", "list")).ToJsonString());
        var test = await JsonAsync("models", "test", "extra-chat");
        Assert.True(test["deployments"]![0]!["ok"]!.GetValue<bool>());
        Assert.Equal("embeddings", (await JsonAsync("models", "test", "extra-embed"))["endpoint"]!.GetValue<string>());
        await JsonAsync("models", "remove", "extra-chat");
        await JsonAsync("models", "remove", "extra-embed");
        await JsonAsync("providers", "remove", "extra");

        Assert.True((await JsonAsync("usage"))["totals"]!["requests"]!.GetValue<long>() >= 3);
        Assert.Equal(1, (await JsonAsync("usage", "--key", created["id"]!.GetValue<string>()))["totals"]!["requests"]!.GetValue<long>());
        var csv = Path.Combine(_dir, "usage.csv");
        Assert.True((await JsonAsync("usage", "--csv", "-o", csv))["records"]!.GetValue<int>() >= 3);
        Assert.Contains("key.rotated", (await JsonAsync("audit")).ToJsonString());
        Assert.Single((await JsonAsync("audit", "--action", "key.rotated"))["entries"]!.AsArray());

        await JsonAsync("kb", "create", "notes", "--embedding-model", "none");
        await JsonAsync("kb", "list");
        var doc = Path.Combine(_dir, "travel.md");
        await File.WriteAllTextAsync(doc, "# Travel\n\nTrain tickets are booked through the travel desk at least five days ahead.");
        await JsonAsync("kb", "ingest", "notes", doc);
        await JsonAsync("kb", "search", "notes", "train tickets");
        await JsonAsync("kb", "ask", "notes", "How early are train tickets booked?");

        Assert.Equal(created["id"]!.GetValue<string>(), (await JsonAsync("keys", "revoke", "web"))["id"]!.GetValue<string>());
        await JsonAsync("workspaces", "create", "temp");
        await JsonAsync("keys", "create", "--name", "temp-app", "--workspace", "temp");
        var deleted = await JsonAsync("workspaces", "delete", "temp", "--force");
        Assert.Equal("temp-app", deleted["revokedKeys"]![0]!["name"]!.GetValue<string>());
        var acmeId = (await JsonAsync("workspaces", "delete", "acme-cn"))["id"]!.GetValue<string>();
        // The deleted workspace's usage stays readable by its id.
        Assert.Equal(1, (await JsonAsync("usage", "--workspace", acmeId))["totals"]!["requests"]!.GetValue<long>());
    }

    [Fact]
    public async Task Version_prints_the_informational_version_alone()
    {
        var (code, stdout, _) = await RunAsync("--version");
        Assert.Equal(0, code);
        var expected = typeof(Mulan.Cli.MulanCli).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        Assert.Equal(expected, stdout.Trim());
        Assert.StartsWith("0.2.0", expected);
    }

    [Fact]
    public async Task Key_verbs_take_a_unique_name_and_list_the_candidates_of_an_ambiguous_one()
    {
        (await _host.Admin.PostAsJsonAsync("api/keys", new { name = "twin" })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/keys", new { name = "twin" })).EnsureSuccessStatusCode();
        var ids = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/keys"))!["keys"]!.AsArray().Select(k => k!["id"]!.GetValue<string>()).ToList();

        var (code, stdout, stderr) = await RunAsync("keys", "revoke", "twin");
        Assert.Equal(1, code);
        Assert.Contains("2 keys are named 'twin'", stderr);
        Assert.All(ids, id => Assert.Contains(id, stderr));
        Assert.Equal("", stdout);
        Assert.All((await _host.Admin.GetFromJsonAsync<JsonObject>("api/keys"))!["keys"]!.AsArray(), k => Assert.Null(k!["revokedAt"]));

        // By id it works; then the name is unique among active keys, so the name works too (the revoked twin is skipped).
        Assert.Equal(0, (await RunAsync("keys", "revoke", ids[0])).Code);
        var (updateCode, update, updateErr) = await RunAsync("keys", "update", "twin", "--name", "single");
        Assert.True(updateCode == 0, updateErr);
        Assert.Contains($"Updated key single ({ids[1]})", update);
        var (rotateCode, rotate, _) = await RunAsync("keys", "rotate", "single");
        Assert.Equal(0, rotateCode);
        Assert.Contains("mk-", rotate);

        var (missingCode, _, missingErr) = await RunAsync("keys", "rotate", "nobody");
        Assert.Equal(1, missingCode);
        Assert.Contains("no key with the id or name 'nobody'", missingErr);
        var (nothingCode, _, nothingErr) = await RunAsync("keys", "update", "single");
        Assert.Equal(1, nothingCode);
        Assert.Contains("Nothing to change", nothingErr);
    }

    [Fact]
    public async Task Exit_1_for_user_errors_and_2_for_system_errors_with_one_json_document_each()
    {
        // Bad flags.
        var (flagCode, flagOut, flagErr) = await RunAsync("keys", "update", "x", "--rpm", "5", "--no-rpm", "--json");
        Assert.Equal(1, flagCode);
        Assert.Contains("--rpm and --no-rpm", flagErr);
        Assert.Equal(1, OneDocument(flagOut, ["keys update"])["error"]!["exitCode"]!.GetValue<int>());
        Assert.Equal(1, (await RunAsync("usage", "--csv", "--json")).Code);
        Assert.Equal(1, (await RunAsync("audit", "--no-such-flag")).Code);

        // The server said 4xx: the message names the problem.
        var (conflictCode, conflictOut, conflictErr) = await RunAsync("workspaces", "delete", "default", "--json");
        Assert.Equal(1, conflictCode);
        Assert.Contains("cannot be deleted", conflictErr);
        var error = OneDocument(conflictOut, ["workspaces delete"])["error"]!;
        Assert.Equal(409, error["status"]!.GetValue<int>());
        Assert.Contains("cannot be deleted", error["message"]!.GetValue<string>());
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "busy" })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/keys", new { name = "busy-app", workspace = "busy" })).EnsureSuccessStatusCode();
        var (busyCode, _, busyErr) = await RunAsync("workspaces", "delete", "busy");
        Assert.Equal(1, busyCode);
        Assert.Contains("busy-app", busyErr);
        var (badCode, _, badErr) = await RunAsync("keys", "create", "--name", "x", "--models", "no-such-model");
        Assert.Equal(1, badCode);
        Assert.Contains("no model 'no-such-model'", badErr);
        Assert.Equal(1, (await RunAsync("models", "test", "no-such-model")).Code);
        Assert.Equal(1, (await RunAsync("models", "test", "chat-500")).Code); // a deployment that fails: for the user to fix

        // Unreachable server.
        var down = $"http://127.0.0.1:{MulanProcess.FreePort()}";
        var (downCode, downOut, _) = await RunAsync("keys", "list", "--server", down, "--json");
        Assert.Equal(2, downCode);
        Assert.Equal(2, OneDocument(downOut, ["keys list"])["error"]!["exitCode"]!.GetValue<int>());

        // A server that fails with 5xx.
        await using var broken = await BrokenServerAsync();
        var (failCode, failOut, failErr) = await RunAsync("usage", "--server", broken.Url, "--json");
        Assert.Equal(2, failCode);
        Assert.Contains("500", failErr);
        OneDocument(failOut, ["usage"]);
    }

    [Fact]
    public async Task Usage_csv_exports_every_record_to_stdout_or_a_file()
    {
        var key = await _host.CreateKeyAsync();
        using var http = _host.Client(key);
        for (var i = 0; i < 3; i++)
        {
            (await http.PostAsJsonAsync("v1/embeddings", new { model = "embed", input = "hello, \"world\"" })).EnsureSuccessStatusCode();
        }
        var (code, stdout, stderr) = await RunAsync("usage", "--csv", "--page-size", "2");
        Assert.True(code == 0, stderr);
        // (the captured stdout is read line by line, so its CRLFs come back as plain newlines)
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("at,requestId,workspace,key,endpoint,model,", lines[0]);
        Assert.Equal(4, lines.Length); // header + every record, across pages of 2
        Assert.All(lines.Skip(1), l => Assert.Contains(",embed,", l));

        var file = Path.Combine(_dir, "out.csv");
        var (fileCode, fileOut, _) = await RunAsync("usage", "--csv", "-o", file);
        Assert.Equal(0, fileCode);
        Assert.Contains("Wrote 3 usage record(s)", fileOut);
        var written = await File.ReadAllTextAsync(file);
        Assert.EndsWith("\r\n", written); // RFC 4180 line ends
        Assert.Equal(lines, written.Split("\r\n", StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Tables_for_people()
    {
        var (code, stdout, _) = await RunAsync("models");
        Assert.Equal(0, code);
        Assert.Contains("chat-short", stdout);
        var (testCode, test, _) = await RunAsync("models", "test", "chat");
        Assert.Equal(0, testCode);
        Assert.Contains("ok", test);
        var (providersCode, providers, _) = await RunAsync("providers");
        Assert.Equal(0, providersCode);
        Assert.Contains("fake", providers);
        Assert.DoesNotContain(_host.Vendor.ApiKey, providers);
        var (auditCode, audit, _) = await RunAsync("audit");
        Assert.Equal(0, auditCode);
        Assert.Contains("entries", audit);
    }

    private sealed class BrokenServer(WebApplication app) : IAsyncDisposable
    {
        public string Url { get; } = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }

    private static async Task<BrokenServer> BrokenServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(ctx =>
        {
            ctx.Response.StatusCode = 500;
            return ctx.Response.WriteAsync("""{"title":"boom"}""");
        });
        await app.StartAsync();
        return new BrokenServer(app);
    }
}
