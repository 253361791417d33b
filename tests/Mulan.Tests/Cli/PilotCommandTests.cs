using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Cli;

/// <summary>The real <c>mulan pilot</c> verbs against a running server: a pilot from creation to its report, and flags refused before anything is sent.</summary>
public sealed class PilotCommandTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private Dictionary<string, string?> _env = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _env = new Dictionary<string, string?> { ["MULAN_URL"] = _host.BaseUrl.ToString(), ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
        _dir = Directory.CreateTempSubdirectory("mulan-pilot-cli").FullName;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await MulanProcess.RunAsync(args, _env);
        Assert.True(code == 0, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return stdout;
    }

    private async Task<JsonNode> JsonAsync(params string[] args) => JsonNode.Parse(await OkAsync([.. args, "--json"]))!;

    [Fact]
    public async Task A_pilot_goes_from_creation_through_freeze_change_and_effort_to_its_report()
    {
        var start = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var end = DateTime.UtcNow.AddDays(89).ToString("yyyy-MM-dd");
        var id = (await OkAsync("pilot", "create", "--name", "<b>FAQ</b>", "--customer", "Acme", "--vendor", "Mulan Co", "--workspace", "default",
            "--contract", "300000 CNY", "--start", start, "--end", end, "--budget", "1000cny")).Trim();
        Assert.StartsWith("pilot_", id);
        var created = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["pilot"]!;
        Assert.Equal(300000m, created["contractValue"]!["amount"]!.GetValue<decimal>());
        Assert.Equal("CNY", created["budget"]!["currency"]!.GetValue<string>());
        Assert.Equal(end, created["end"]!.GetValue<string>());

        using var setResponse = await _host.Admin.PostAsJsonAsync("api/evaluations/sets", new
        {
            name = "faq", workspace = "default", items = new[] { new { question = "How many days of annual leave?", expectedFacts = new[] { "15" } } },
        });
        var setId = (await setResponse.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        // By name as well as by id.
        var item = await JsonAsync("pilot", "scope", "<b>FAQ</b>", "--title", "HR answers", "--priority", "must", "--owner", "Li",
            "--criterion", $"factRecall=0.8@{setId}", "--criterion", $"latencyP95Ms=4000@{setId}");
        var itemId = item["id"]!.GetValue<string>();
        Assert.Equal(2, item["criteria"]!.AsArray().Count);
        Assert.Equal(4000.0, item["criteria"]![1]!["threshold"]!.GetValue<double>());
        var listed = await OkAsync("pilot", "scope", id);
        Assert.Contains("HR answers", listed);
        Assert.Contains($"factRecall ≥ 0.8 ({setId})", listed);
        Assert.Contains($"latencyP95Ms ≤ 4000 ({setId})", listed);
        Assert.Contains("not frozen", listed);
        var extra = (await JsonAsync("pilot", "scope", id, "--title", "Spare", "--priority", "wont"))["id"]!.GetValue<string>();
        Assert.Contains("removed", await OkAsync("pilot", "scope", id, "--remove", extra));
        Assert.Single((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["scope"]!.AsArray());

        await OkAsync("pilot", "update", id, "--status", "active", "--alert", "0.5", "--webhook", "https://hooks.example.com/pilot");
        Assert.Contains("budget 2000 CNY", await OkAsync("pilot", "update", id, "--budget", "2000CNY", "--alert", "0.9"));
        var updated = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["pilot"]!;
        Assert.Equal("active", updated["status"]!.GetValue<string>());
        Assert.Equal(2000m, updated["budget"]!["amount"]!.GetValue<decimal>());
        Assert.Equal(0.9m, Assert.Single(updated["alerts"]!["thresholds"]!.AsArray())!.GetValue<decimal>());
        // New thresholds keep the webhook given before.
        Assert.Equal("https://hooks.example.com/pilot", updated["alerts"]!["webhook"]!["url"]!.GetValue<string>());

        Assert.Contains("1 items in the baseline", await OkAsync("pilot", "freeze", id));
        var (refused, refusedOut, refusedErr) = await MulanProcess.RunAsync(["pilot", "scope", id, "--title", "Also translate", "--priority", "should"], _env);
        Assert.True(refused == 1, $"exited {refused}: {refusedErr}{refusedOut}");
        Assert.Contains("(409)", refusedErr);
        Assert.Contains("/changes", refusedErr);
        Assert.Contains($"mulan pilot change {id}", refusedErr);
        Assert.Single((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["scope"]!.AsArray());

        var change = await JsonAsync("pilot", "change", id, "--title", "Also translate", "--priority", "should", "--effort-days", "3", "--cost", "9000CNY",
            "--schedule-days", "5", "--reason", "customer asked");
        var cid = change["id"]!.GetValue<string>();
        Assert.Equal("pending", change["status"]!.GetValue<string>());
        Assert.Equal(9000m, change["impact"]!["cost"]!["amount"]!.GetValue<decimal>());
        Assert.Contains("approved by Acme PM", await OkAsync("pilot", "change", id, "--approve", cid, "--by", "Acme PM"));
        Assert.Equal(2, (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["scope"]!.AsArray().Count);
        var changes = await OkAsync("pilot", "change", id);
        Assert.Contains(cid, changes);
        Assert.Contains("approved", changes);
        var (again, _, againErr) = await MulanProcess.RunAsync(["pilot", "change", id, "--reject", cid, "--by", "Acme PM"], _env);
        Assert.Equal(1, again);
        Assert.Contains("(409)", againErr);

        // A change request keeps the fields it does not name: only the priority moves.
        var demote = await JsonAsync("pilot", "change", id, "--item", itemId, "--priority", "should", "--effort-days", "0", "--cost", "0CNY", "--reason", "re-planned");
        Assert.Equal("change", demote["kind"]!.GetValue<string>());
        Assert.Equal("HR answers", demote["scope"]!["title"]!.GetValue<string>());
        Assert.Equal(2, demote["scope"]!["criteria"]!.AsArray().Count);

        var effort = await JsonAsync("pilot", "effort", id, "--role", "dev", "--days", "1.5", "--rate", "2000.10CNY", "--item", itemId, "--date", start);
        Assert.Equal(3000.15m, effort["amount"]!["amount"]!.GetValue<decimal>());

        var status = await OkAsync("pilot", "status", id);
        // Exact figures, without the trailing zero of 1.5 × 2000.10 = 3000.150.
        Assert.Matches(@"effort\W+3000\.15\W+1\.5 person-days", status);
        Assert.Matches(@"cost to date\W+3000\.15\W+1% of the contract", status);
        Assert.Matches(@"margin\W+296999\.85\W+99%", status); // 300000 − 3000.15
        Assert.Matches(@"contract value\W+300000\W+budget\W+2000\W+0% used", status);
        Assert.Contains("not_evaluated", status);
        var statusJson = await JsonAsync("pilot", "status", id);
        Assert.Equal(3000.15m, statusJson["ledger"]!["effort"]!.GetValue<decimal>());
        Assert.Equal(3000.15m, statusJson["ledger"]!["costToDate"]!.GetValue<decimal>());
        Assert.Equal(2, statusJson["acceptance"]!["items"]!.AsArray().Count);

        var md = Path.Combine(_dir, "report.md");
        Assert.Contains("md report written", await OkAsync("pilot", "report", id, "--out", md));
        var mdText = await File.ReadAllTextAsync(md);
        Assert.Contains("&lt;b&gt;FAQ&lt;/b&gt;", mdText);
        Assert.Contains("HR answers", mdText);
        var html = Path.Combine(_dir, "report.html");
        var written = await JsonAsync("pilot", "report", id, "--out", html, "--lang", "zh-Hant");
        Assert.Equal("html", written["format"]!.GetValue<string>());
        var htmlText = await File.ReadAllTextAsync(html);
        Assert.Equal(new FileInfo(html).Length, written["bytes"]!.GetValue<long>());
        Assert.StartsWith("<!DOCTYPE html><html lang=\"zh-Hant\"", htmlText);
        Assert.Contains("&lt;b&gt;FAQ&lt;/b&gt;", htmlText);
        Assert.DoesNotContain("<b>FAQ</b>", htmlText);
        Assert.False(File.Exists(html + ".part"));
        var json = JsonNode.Parse(await OkAsync("pilot", "report", id, "--format", "json"))!;
        Assert.Equal(3000.15m, json["summary"]!["effort"]!.GetValue<decimal>());

        var signed = await JsonAsync("pilot", "signoff", id, "--side", "customer", "--name", "Li");
        Assert.Equal(Mulan.Pilots.PilotReport.Sha256(signed["snapshot"]!.GetValue<string>()), signed["sha256"]!.GetValue<string>());
        Assert.Contains(signed["sha256"]!.GetValue<string>(), await OkAsync("pilot", "signoff", id));
    }

    [Theory]
    [InlineData("--contract", "lots", "create", "--name", "n", "--customer", "c", "--contract", "lots", "--start", "2026-01-01", "--end", "2026-02-01")]
    [InlineData("--contract", "-5CNY", "create", "--name", "n", "--customer", "c", "--contract", "-5CNY", "--start", "2026-01-01", "--end", "2026-02-01")]
    [InlineData("--start", "2026-13-01", "create", "--name", "n", "--customer", "c", "--contract", "5CNY", "--start", "2026-13-01", "--end", "2026-02-01")]
    [InlineData("--end", "before --start", "create", "--name", "n", "--customer", "c", "--contract", "5CNY", "--start", "2026-03-01", "--end", "2026-02-01")]
    [InlineData("--customer", "required", "create", "--name", "n", "--contract", "5CNY", "--start", "2026-01-01", "--end", "2026-02-01")]
    [InlineData("--priority", "'maybe'", "scope", "pilot_x", "--title", "t", "--priority", "maybe")]
    [InlineData("--criterion", "METRIC=VALUE@SET", "scope", "pilot_x", "--title", "t", "--priority", "must", "--criterion", "factRecall>=0.8")]
    [InlineData("--criterion", "unknown metric 'vibes'", "scope", "pilot_x", "--title", "t", "--priority", "must", "--criterion", "vibes=1@evs_x")]
    [InlineData("--priority", "required", "scope", "pilot_x", "--title", "t")]
    [InlineData("--days", "'1,5'", "effort", "pilot_x", "--role", "dev", "--days", "1,5", "--rate", "2000CNY")]
    [InlineData("--rate", "required", "effort", "pilot_x", "--role", "dev", "--days", "1")]
    [InlineData("--date", "'07/12/2026'", "effort", "pilot_x", "--role", "dev", "--days", "1", "--rate", "2000CNY", "--date", "07/12/2026")]
    [InlineData("--cost", "required", "change", "pilot_x", "--title", "t", "--priority", "must", "--effort-days", "1", "--reason", "r")]
    [InlineData("--schedule-days", "whole number", "change", "pilot_x", "--title", "t", "--priority", "must", "--effort-days", "1", "--cost", "1CNY", "--schedule-days", "1.5", "--reason", "r")]
    [InlineData("--item", "required with --kind remove", "change", "pilot_x", "--kind", "remove", "--effort-days", "1", "--cost", "1CNY", "--reason", "r")]
    [InlineData("--by", "required", "change", "pilot_x", "--approve", "chg_x")]
    [InlineData("--approve and --reject", "give one", "change", "pilot_x", "--approve", "chg_x", "--reject", "chg_y", "--by", "b")]
    [InlineData("--format", "'pdf'", "report", "pilot_x", "--format", "pdf")]
    [InlineData("--lang", "'fr'", "report", "pilot_x", "--lang", "fr")]
    [InlineData("--json", "give --out FILE", "report", "pilot_x", "--json")]
    [InlineData("--status", "'open'", "update", "pilot_x", "--status", "open")]
    [InlineData("--webhook", "give what to change", "update", "pilot_x")]
    [InlineData("--remove", "leave out --item", "scope", "pilot_x", "--remove", "scope_a", "--title", "t")]
    [InlineData("--side", "'both'", "signoff", "pilot_x", "--side", "both", "--name", "Li")]
    [InlineData("--name", "required with --side", "signoff", "pilot_x", "--side", "vendor")]
    [InlineData("--title and --run", "give both", "bakeoff", "pilot_x", "--title", "t")]
    [InlineData("--weight", "'vibes=1'", "bakeoff", "pilot_x", "--title", "t", "--run", "evr_a", "--weight", "vibes=1")]
    [InlineData("--remove", "give it alone", "bakeoff", "pilot_x", "--remove", "bko_a", "--run", "evr_a")]
    public async Task A_bad_flag_is_a_usage_error_naming_it_and_nothing_is_sent(string flag, string detail, params string[] args)
    {
        // Nothing listens here: a command that sent anything would fail with exit 2, "Cannot reach the server".
        var env = new Dictionary<string, string?> { ["MULAN_URL"] = $"http://127.0.0.1:{MulanProcess.FreePort()}/", ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
        var (code, stdout, stderr) = await MulanProcess.RunAsync(["pilot", .. args], env);
        Assert.True(code == 1, $"exited {code}: {stderr}{stdout}");
        Assert.Contains(flag + ":", stderr);
        Assert.Contains(detail, stderr);
        Assert.DoesNotContain("server", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_bakeoff_is_recorded_listed_as_a_ranked_table_and_removed()
    {
        var start = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var id = (await OkAsync("pilot", "create", "--name", "vendors", "--customer", "Acme", "--contract", "1000CNY", "--start", start, "--end", start)).Trim();
        var set = await Mulan.Tests.Evaluations.EvaluationRunTests.CreateSetAsync(_host.Admin, [new { question = "hello", expectedFacts = new[] { "hello" } }]);
        var runs = new List<string>();
        foreach (var model in new[] { "chat", "chat-short" })
        {
            var started = await Mulan.Tests.Evaluations.EvaluationRunTests.StartAsync(_host.Admin, new { set, target = new { model } });
            var run = await Mulan.Tests.Evaluations.EvaluationRunTests.WaitAsync(_host.Admin, started["id"]!.GetValue<string>());
            Assert.Equal("succeeded", run["status"]!.GetValue<string>());
            runs.Add(run["id"]!.GetValue<string>());
        }
        var created = await JsonAsync("pilot", "bakeoff", id, "--title", "Which route", "--run", runs[0], "--run", runs[1], "--weight", "cost=1");
        Assert.Equal(1.0, created["weights"]!["cost"]!.GetValue<double>());
        Assert.Equal(runs.Order(), created["rows"]!.AsArray().Select(r => r!["run"]!.GetValue<string>()).Order());
        var listed = await OkAsync("pilot", "bakeoff", id);
        Assert.Contains("Which route", listed);
        Assert.Contains(runs[0], listed);
        Assert.Contains("chat-short", listed);
        var (code, _, stderr) = await MulanProcess.RunAsync(["pilot", "bakeoff", id, "--title", "t", "--run", "evr_nope"], _env);
        Assert.Equal(1, code);
        Assert.Contains("$.runs[0]", stderr);
        Assert.Contains("deleted", await OkAsync("pilot", "bakeoff", id, "--remove", created["id"]!.GetValue<string>()));
        Assert.Contains("no bake-offs", await OkAsync("pilot", "bakeoff", id));
    }

    [Fact]
    public async Task Refusals_of_the_server_are_shown_with_their_status_and_field()
    {
        var (code, _, stderr) = await MulanProcess.RunAsync(["pilot", "status", "pilot_nope"], _env);
        Assert.Equal(1, code);
        Assert.Contains("(404)", stderr);
        Assert.Contains("pilot_nope", stderr);

        var id = (await OkAsync("pilot", "create", "--name", "p", "--customer", "c", "--contract", "10USD", "--start", "2026-01-01", "--end", "2026-01-31")).Trim();
        // Well-formed for the command line, but the set does not exist: the server names the JSON path.
        var (refused, refusedOut, refusedErr) = await MulanProcess.RunAsync(["pilot", "scope", id, "--title", "t", "--priority", "must", "--criterion", "factRecall=0.8@evs_none", "--json"], _env);
        Assert.Equal(1, refused);
        Assert.Contains("$.criteria[0].set", refusedErr);
        Assert.Equal(400, JsonNode.Parse(refusedOut)!["error"]!["status"]!.GetValue<int>());
        Assert.Empty((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/pilots/{id}"))!["scope"]!.AsArray());

        var (unknown, _, unknownErr) = await MulanProcess.RunAsync(["pilot", "scope", "no such pilot"], _env);
        Assert.Equal(1, unknown);
        Assert.Contains("no pilot with the id or name 'no such pilot'", unknownErr);
    }
}
