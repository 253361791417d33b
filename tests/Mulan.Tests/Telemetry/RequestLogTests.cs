using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Tests.Support;
using Xunit;

namespace Mulan.Tests.Telemetry;

/// <summary>The request log of a real <c>mulan serve</c> process with the JSON console formatter, read from its
/// standard output.</summary>
public sealed class RequestLogTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-reqlog-").FullName;
    private FakeVendorServer _vendor = null!;

    public async Task InitializeAsync() => _vendor = await FakeVendorServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _vendor.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Each_request_is_one_json_line_with_its_figures_and_never_its_secret_or_prompt()
    {
        var config = Path.Combine(_dir, "config.json");
        await File.WriteAllTextAsync(config, MulanHost.DefaultCatalog.Replace("{VENDOR}", _vendor.BaseUrl.ToString(), StringComparison.Ordinal));
        var url = $"http://127.0.0.1:{MulanProcess.FreePort()}/";
        var env = new Dictionary<string, string?>
        {
            ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey, ["FAKE_VENDOR_KEY"] = _vendor.ApiKey,
            ["MULAN_TELEMETRY__LOGFORMAT"] = "Json", ["MULAN_TELEMETRY__REQUESTLOG__ENABLED"] = "true",
        };
        await using var server = MulanProcess.Start(["serve", "--data", Path.Combine(_dir, "data"), "--config", config, "--urls", url.TrimEnd('/')], env);
        await server.WaitHealthyAsync(new Uri(url));
        using var admin = new HttpClient { BaseAddress = new Uri(url) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", MulanHost.AdminKey);
        var created = (await (await admin.PostAsJsonAsync("api/keys", new { name = "logged" })).Content.ReadFromJsonAsync<JsonObject>())!;
        var secret = created["key"]!.GetValue<string>();
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        var prompt = "my salary is " + Guid.NewGuid().ToString("N");
        using var ok = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = prompt } } });
        ok.EnsureSuccessStatusCode();
        var okId = ok.Headers.GetValues("x-mulan-request-id").Single();
        using var unknown = await client.PostAsJsonAsync("v1/chat/completions", new { model = "no-such-model", messages = new[] { new { role = "user", content = prompt } } });
        var unknownId = unknown.Headers.GetValues("x-mulan-request-id").Single();

        await server.WaitForStdoutAsync(unknownId);
        var lines = server.Stdout.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(l => l["Category"]?.GetValue<string>() == "Mulan.Requests").ToList();
        var line = Assert.Single(lines, l => l["State"]!["RequestId"]!.GetValue<string>() == okId);
        var state = line["State"]!;
        Assert.Equal("Information", line["LogLevel"]!.GetValue<string>());
        Assert.Equal(created["id"]!.GetValue<string>(), state["KeyId"]!.GetValue<string>());
        Assert.Equal("chat", state["Model"]!.GetValue<string>());
        Assert.Equal("ok", state["Status"]!.GetValue<string>());
        Assert.Equal("200", state["HttpStatus"]!.ToString());
        var usage = (await admin.GetFromJsonAsync<JsonObject>("api/usage?pageSize=100"))!;
        var record = usage["records"]!.AsArray().Single(r => r!["requestId"]!.GetValue<string>() == okId)!;
        Assert.Equal(record["inputTokens"]!.ToString(), state["InputTokens"]!.ToString());
        Assert.Equal(record["outputTokens"]!.ToString(), state["OutputTokens"]!.ToString());
        Assert.Equal(record["cost"]!["amount"]!.GetValue<decimal>(), decimal.Parse(state["Cost"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("USD", state["Currency"]!.GetValue<string>());
        Assert.True(double.Parse(state["LatencyMs"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        var refused = Assert.Single(lines, l => l["State"]!["RequestId"]!.GetValue<string>() == unknownId);
        Assert.Equal("404", refused["State"]!["HttpStatus"]!.ToString());
        Assert.Equal("rejected", refused["State"]!["Status"]!.GetValue<string>());

        var output = server.Stdout + server.Stderr;
        Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
        Assert.DoesNotContain(prompt, output, StringComparison.Ordinal);
        Assert.DoesNotContain(_vendor.ApiKey, output, StringComparison.Ordinal);
        Assert.DoesNotContain(MulanHost.AdminKey, output, StringComparison.Ordinal);
    }
}
