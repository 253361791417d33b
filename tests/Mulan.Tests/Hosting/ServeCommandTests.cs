using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Hosting;

/// <summary>The real executable: start-up validation, exit codes and the bootstrap admin key.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-serve-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Config(string json)
    {
        var path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Theory]
    [InlineData("""{"providers":[{"name":"p","kind":"openai-ish"}]}""", "providers[0].kind")]
    [InlineData("""{"providers":[{"name":"p","kind":"openai","baseUrl":"ftp://x"}]}""", "providers[0].baseUrl")]
    [InlineData("""{"providers":[{"name":"p","kind":"openai","apiKey":"env:MULAN_TEST_UNSET_VAR"}]}""", "providers[0].apiKey")]
    [InlineData("""{"providers":[{"name":"p","kind":"deepseek"}],"models":[{"name":"m","deployments":[{"provider":"q","model":"x","price":{"currency":"USD","input":1,"output":1}}]}]}""", "models[0].deployments[0].provider")]
    [InlineData("""{"providers":[{"name":"p","kind":"deepseek"}],"models":[{"name":"m","deployments":[{"provider":"p","model":"x","price":{"currency":"EUR","input":1,"output":1}}]}]}""", "models[0].deployments[0].price.currency")]
    [InlineData("""{"providers":[{"name":"p","kind":"deepseek"}],"models":[{"name":"m","strategy":"random","deployments":[{"provider":"p","model":"x","price":{"currency":"USD","input":1,"output":1}}]}]}""", "models[0].strategy")]
    [InlineData("""{"providers":[{"name":"p","kind":"qwen"}],"models":[{"name":"m","deployments":[{"provider":"p","model":"x","price":{"currency":"USD","input":"cheap","output":1}}]}]}""", "models[0].deployments[0].price.input")]
    [InlineData("""{"providers":[""", "invalid JSON")]
    [InlineData("""{"gateway":{"maxRequestBodyBytes":5}}""", "Gateway:MaxRequestBodyBytes")]
    [InlineData("""{"gateway":{"upstreamTimeoutSeconds":"soon"}}""", "Gateway:UpstreamTimeoutSeconds")]
    public async Task Bad_configuration_exits_1_naming_the_setting(string json, string path)
    {
        var (code, stdout, stderr) = await MulanProcess.RunAsync(["serve", "--data", Path.Combine(_dir, "data"), "--config", Config(json), "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(1, code);
        Assert.Contains(path, stderr + stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Missing_config_file_exits_1()
    {
        var (code, _, stderr) = await MulanProcess.RunAsync(["serve", "--data", _dir, "--config", Path.Combine(_dir, "absent.json")]);
        Assert.Equal(1, code);
        Assert.Contains("absent.json", stderr);
    }

    [Fact]
    public async Task Unknown_flag_exits_1()
    {
        var (code, _, stderr) = await MulanProcess.RunAsync(["serve", "--no-such-flag"]);
        Assert.Equal(1, code);
        Assert.Contains("no-such-flag", stderr);
    }

    [Fact]
    public async Task Client_verb_against_a_server_that_is_down_exits_2()
    {
        var (code, _, stderr) = await MulanProcess.RunAsync(["usage", "--server", $"http://127.0.0.1:{MulanProcess.FreePort()}", "--admin-key", "mka-x"]);
        Assert.Equal(2, code);
        Assert.Contains("Cannot reach the server", stderr);
    }

    [Fact]
    public async Task First_start_prints_a_generated_admin_key_once_and_the_cli_uses_it()
    {
        var port = MulanProcess.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var data = Path.Combine(_dir, "data");
        string adminKey;
        await using (var first = MulanProcess.Start(["serve", "--data", data, "--urls", url]))
        {
            await first.WaitHealthyAsync(new Uri(url + "/"));
            adminKey = System.Text.RegularExpressions.Regex.Match(await first.WaitForStdoutAsync("Keep it safe"), @"mka-[A-Za-z0-9_-]{43}").Value;
            Assert.NotEmpty(adminKey);

            var env = new Dictionary<string, string?> { ["MULAN_URL"] = url, ["MULAN_ADMIN_KEY"] = adminKey };
            var (code, stdout, _) = await MulanProcess.RunAsync(["keys", "create", "--name", "cli", "--budget", "10USD/month", "--rpm", "60", "--json"], env);
            Assert.Equal(0, code);
            var created = JsonNode.Parse(stdout)!;
            Assert.StartsWith("mk-", created["key"]!.GetValue<string>());
            Assert.Equal(60, created["rpm"]!.GetValue<int>());

            var (listCode, table, _) = await MulanProcess.RunAsync(["keys", "list"], env);
            Assert.Equal(0, listCode);
            Assert.Contains("cli", table);
            Assert.DoesNotContain(created["key"]!.GetValue<string>(), table);

            var (badCode, _, badErr) = await MulanProcess.RunAsync(["keys", "create", "--name", "x", "--budget", "ten dollars"], env);
            Assert.Equal(1, badCode);
            Assert.Contains("--budget", badErr);

            var (refusedCode, _, refusedErr) = await MulanProcess.RunAsync(["keys", "revoke", "key_nope"], env);
            Assert.Equal(1, refusedCode);
            Assert.Contains("404", refusedErr);

            var (wrongKeyCode, _, _) = await MulanProcess.RunAsync(["usage", "--admin-key", "mka-wrong"], env);
            Assert.Equal(1, wrongKeyCode);
        }
        await using var second = MulanProcess.Start(["serve", "--data", data, "--urls", url]);
        await second.WaitHealthyAsync(new Uri(url + "/"));
        Assert.DoesNotContain("mka-", await second.WaitForStdoutAsync("encoder"));
        var (usageCode, usage, _) = await MulanProcess.RunAsync(["usage", "--json"], new Dictionary<string, string?> { ["MULAN_URL"] = url, ["MULAN_ADMIN_KEY"] = adminKey });
        Assert.Equal(0, usageCode);
        Assert.Equal(0, JsonNode.Parse(usage)!["totals"]!["requests"]!.GetValue<int>());
    }
}
