using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mulan.Tests.Support;

namespace Mulan.Tests.Hosting;

/// <summary>The first start cannot lock anyone out, a lost key can be replaced from the data folder, a started
/// server says what it loaded, and a misspelt setting stops the start with its path.</summary>
public sealed partial class BootstrapTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-boot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"mka-[A-Za-z0-9_-]{43}")]
    private static partial Regex AdminKeyPattern();

    private static Dictionary<string, string?> Client(string url, string key) => new() { ["MULAN_URL"] = url, ["MULAN_ADMIN_KEY"] = key };

    [Fact]
    public async Task A_first_start_that_fails_stores_no_key_and_the_next_start_shows_one_that_works()
    {
        var data = Path.Combine(_dir, "data");
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var busy = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var (code, stdout, stderr) = await MulanProcess.RunAsync(["serve", "--data", data, "--urls", busy]);
        Assert.Equal(2, code);
        Assert.Contains("address already in use", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(AdminKeyPattern(), stdout + stderr);
        // One plain line, not the host's stack trace.
        Assert.DoesNotContain("   at ", stderr + stdout);

        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}";
        await using var server = MulanProcess.Start(["serve", "--data", data, "--urls", url]);
        await server.WaitHealthyAsync(new Uri(url + "/"));
        var key = AdminKeyPattern().Match(await server.WaitForStdoutAsync("Keep it safe")).Value;
        Assert.NotEmpty(key);
        var (listCode, list, listErr) = await MulanProcess.RunAsync(["keys", "list", "--json"], Client(url, key));
        Assert.True(listCode == 0, listErr);
        Assert.NotNull(JsonNode.Parse(list)!["keys"]);
    }

    [Fact]
    public async Task Reset_key_replaces_a_lost_key_on_a_running_server_and_is_audited()
    {
        var data = Path.Combine(_dir, "data");
        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}";
        await using var server = MulanProcess.Start(["serve", "--data", data, "--urls", url]);
        await server.WaitHealthyAsync(new Uri(url + "/"));
        var lost = AdminKeyPattern().Match(await server.WaitForStdoutAsync("Keep it safe")).Value;

        var (code, stdout, stderr) = await MulanProcess.RunAsync(["admin", "reset-key", "--data", data, "--json"]);
        Assert.True(code == 0, stderr);
        var reset = JsonNode.Parse(stdout)!;
        var fresh = reset["key"]!.GetValue<string>();
        Assert.Matches(AdminKeyPattern(), fresh);
        Assert.NotEqual(lost, fresh);
        Assert.Equal(Path.GetFullPath(data), reset["dataFolder"]!.GetValue<string>());

        // The running server re-reads the stored hash within two seconds.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        int oldCode;
        do
        {
            await Task.Delay(250);
            (oldCode, _, _) = await MulanProcess.RunAsync(["keys", "list", "--json"], Client(url, lost));
        }
        while (oldCode == 0 && DateTime.UtcNow < deadline);
        Assert.Equal(1, oldCode);
        var (newCode, _, newErr) = await MulanProcess.RunAsync(["keys", "list", "--json"], Client(url, fresh));
        Assert.True(newCode == 0, newErr);

        using var http = new HttpClient { BaseAddress = new Uri(url + "/") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", fresh);
        var entries = (await http.GetFromJsonAsync<JsonObject>("api/audit?action=admin.key_reset"))!["entries"]!.AsArray();
        var entry = Assert.Single(entries)!;
        Assert.Equal("data-folder", entry["actor"]!.GetValue<string>());
        Assert.DoesNotContain(fresh, entry.ToJsonString());
    }

    [Fact]
    public async Task Reset_key_without_mulan_data_exits_1_and_creates_nothing()
    {
        var nowhere = Path.Combine(_dir, "not-a-data-folder");
        var (code, stdout, stderr) = await MulanProcess.RunAsync(["admin", "reset-key", "--data", nowhere]);
        Assert.Equal(1, code);
        Assert.Contains("no Mulan data", stderr);
        Assert.DoesNotMatch(AdminKeyPattern(), stdout);
        Assert.False(Directory.Exists(nowhere));
    }

    [Fact]
    public async Task A_started_server_says_what_it_loaded_without_secrets()
    {
        var config = Path.Combine(_dir, "mulan.json");
        await File.WriteAllTextAsync(config, """
            {
              "providers": [ { "name": "deepseek", "kind": "deepseek", "apiKey": "sk-secret-never-printed-123" } ],
              "models": [ { "name": "chat-default", "deployments": [ { "provider": "deepseek", "model": "deepseek-chat",
                            "price": { "currency": "CNY", "input": 2, "output": 8 } } ] } ]
            }
            """);
        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}";
        await using var server = MulanProcess.Start(["serve", "--data", Path.Combine(_dir, "data"), "--config", config, "--urls", url],
            new Dictionary<string, string?> { ["MULAN_ADMIN_KEY"] = "mka-chosen-by-the-operator-0123456789" });
        await server.WaitHealthyAsync(new Uri(url + "/"));
        var output = await server.WaitForStdoutAsync("encoder");
        Assert.Contains(url, output);
        Assert.Contains(Path.Combine(_dir, "data"), output);
        Assert.Contains("SQLite", output);
        Assert.Contains("deepseek (deepseek, api.deepseek.com)", output);
        Assert.Contains("chat-default → deepseek/deepseek-chat", output);
        Assert.Contains("handbook (3 documents)", output);
        Assert.Matches(@"OCR\s+(tesseract \(|not found)", output);
        Assert.Contains("from MULAN_ADMIN_KEY", output);
        Assert.DoesNotContain("sk-secret-never-printed-123", output + server.Stderr);
        Assert.DoesNotContain("mka-chosen", output + server.Stderr);
    }

    [Theory]
    [InlineData("""{"provders":[]}""", "provders: unknown setting; did you mean 'providers'?")]
    [InlineData("""{"providers":[{"name":"p","kind":"deepseek","apikey":"x","baseURL":"https://a.example/v1","headrs":{}}]}""", "providers[0].headrs: unknown setting; did you mean 'headers'?")]
    [InlineData("""{"providers":[{"name":"p","kind":"deepseek"}],"models":[{"name":"m","deployments":[{"provider":"p","model":"x","pricee":{"currency":"USD","input":1,"output":1}}]}]}""", "models[0].deployments[0].pricee: unknown setting; did you mean 'price'?")]
    [InlineData("""{"providers":[{"name":"p","kind":"deepseek"}],"models":[{"name":"m","deployments":[{"provider":"p","model":"x","price":{"currency":"USD","input":1,"ouput":1}}]}]}""", "models[0].deployments[0].price.ouput: unknown setting; did you mean 'output'?")]
    [InlineData("""{"gateway":{"maxRequestBodyByte":5}}""", "gateway.maxRequestBodyByte: unknown setting; did you mean 'maxRequestBodyBytes'?")]
    [InlineData("""{"Knowledge":{"chunking":{"maxChar":300}}}""", "Knowledge.chunking.maxChar: unknown setting; did you mean 'maxChars'?")]
    [InlineData("""{"storage":{"dataDirectory":"x","ledgerSnyc":"Full"}}""", "storage.ledgerSnyc: unknown setting; did you mean 'ledgerSync'?")]
    [InlineData("""{"governance":{"exchangeRates":{"USD_CNY":7.1},"redis":"x","qqq":1}}""", "governance.qqq: unknown setting (known here:")]
    [InlineData("""{"gateway":{"maxAttempts":{"n":3}}}""", "gateway.maxAttempts: must be a number, not an object")]
    [InlineData("""{"models":{"name":"m"}}""", "models: must be a list")]
    public async Task A_misspelt_or_misshapen_setting_fails_the_start_with_its_json_path(string json, string message)
    {
        var config = Path.Combine(_dir, "mulan.json");
        await File.WriteAllTextAsync(config, json);
        var data = Path.Combine(_dir, "data");
        var (code, stdout, stderr) = await MulanProcess.RunAsync(["serve", "--data", data, "--config", config, "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(1, code);
        Assert.Contains(message, stderr);
        Assert.DoesNotMatch(AdminKeyPattern(), stdout);
        Assert.False(Directory.Exists(data), "a refused configuration creates no data folder");
    }

    [Fact]
    public void Every_options_section_is_known_to_the_configuration_file_check()
    {
        var sections = typeof(Mulan.Hosting.ConfigFileSchema).Assembly.GetTypes()
            .Where(t => t.GetField("Section", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static) is { IsLiteral: true } f
                && !((string)f.GetRawConstantValue()!).Contains(':', StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(sections);
        Assert.Empty(sections.Except(Mulan.Hosting.ConfigFileSchema.SectionTypes));
    }

    [Fact]
    public async Task Known_settings_in_any_letter_case_with_comments_start_normally()
    {
        var config = Path.Combine(_dir, "mulan.json");
        await File.WriteAllTextAsync(config, """
            {
              // Settings sections are matched as the configuration binder matches them: in any letter case.
              "Gateway": { "MaxAttempts": 2, "upstreamTimeoutSeconds": 60 },
              "knowledge": { "seedDemo": false, "Chunking": { "maxChars": 400 }, "hybrid": { "keywordWeight": 1.5 } },
              "Logging": { "LogLevel": { "Default": "Warning" } },
              "outbound": { "dnsTimeoutSeconds": 3 },
              "exchangeRates": [ { "from": "USD", "to": "CNY", "rate": 7.1, "effectiveFrom": "2026-01-01" } ],
              "providers": [ { "name": "office-ollama", "kind": "ollama", "headers": { "X-Any-Name": "v" } } ],
            }
            """);
        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}";
        await using var server = MulanProcess.Start(["serve", "--data", Path.Combine(_dir, "data"), "--config", config, "--urls", url]);
        await server.WaitHealthyAsync(new Uri(url + "/"));
        Assert.Contains("office-ollama (ollama, 127.0.0.1, local)", await server.WaitForStdoutAsync("encoder"));
    }
}
