using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Governance;

/// <summary>The PII guard on the gateway: masked before an external provider, restored in the answer, blocked by rule.</summary>
public sealed class PiiGuardGatewayTests : IAsyncLifetime
{
    private const string Catalog = """
        {
          "providers": [
            { "name": "cloud", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
            { "name": "in-house", "kind": "openai", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY", "location": "local" }
          ],
          "models": [
            { "name": "echo-cloud", "deployments": [ { "provider": "cloud", "model": "fake-chat+echo", "price": { "currency": "CNY", "input": 1, "output": 1 } } ] },
            { "name": "embed-cloud", "deployments": [ { "provider": "cloud", "model": "fake-embed", "price": { "currency": "CNY", "input": 1, "output": 0 } } ] },
            { "name": "echo-local", "deployments": [ { "provider": "in-house", "model": "fake-chat+echo", "price": { "currency": "CNY", "input": 0, "output": 0 } } ] }
          ]
        }
        """;

    // A mainland mobile and an identity number with a correct check digit.
    private const string Mobile = "13800138000";
    private const string IdNumber = "110101199003074573";
    private readonly string _message = $"请联系我 {Mobile}，身份证 {IdNumber}，谢谢。";

    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(Catalog);
        (await _host.Admin.PostAsJsonAsync("api/workspaces", new { name = "guarded" })).EnsureSuccessStatusCode();
        using var rules = await _host.Admin.PutAsJsonAsync("api/workspaces/guarded/pii", new
        {
            rules = new[] { new { kind = "china_mobile", action = "mask" }, new { kind = "china_id", action = "mask" }, new { kind = "order_no", action = "block" } },
            patterns = new[] { new { name = "order_no", pattern = @"ORD-\d{8}" } },
        });
        Assert.Equal(HttpStatusCode.OK, rules.StatusCode);
        _client = _host.Client(await _host.CreateKeyAsync(new { name = "guarded-key", workspace = "guarded" }));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private Task<HttpResponseMessage> ChatAsync(string model, string content, bool stream = false) =>
        _client.PostAsJsonAsync("v1/chat/completions", new { model, stream, messages = new[] { new { role = "user", content } } });

    private string SentToVendor() => Encoding.UTF8.GetString(_host.Vendor.Requests[^1].Body);

    [Fact]
    public async Task Data_is_masked_before_an_external_provider_and_restored_in_the_answer()
    {
        using var response = await ChatAsync("echo-cloud", _message);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = (await response.Content.ReadFromJsonAsync<JsonObject>())!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.Equal(_message, answer);
        var sent = SentToVendor();
        Assert.DoesNotContain(Mobile, sent);
        Assert.DoesNotContain(IdNumber, sent);
        Assert.Contains("PII:china_mobile:1", sent);
    }

    [Fact]
    public async Task A_streamed_answer_is_restored_even_when_placeholders_are_split_across_deltas()
    {
        using var response = await ChatAsync("echo-cloud", _message, stream: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = new StringBuilder();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.StartsWith("data: {", StringComparison.Ordinal) && JsonNode.Parse(line[6..])!["choices"] is JsonArray { Count: > 0 } choices
                && choices[0]!["delta"]!["content"] is JsonValue content)
            {
                text.Append(content.GetValue<string>());
            }
        }
        Assert.Equal(_message, text.ToString());
        Assert.DoesNotContain(Mobile, SentToVendor());
    }

    [Fact]
    public async Task A_local_provider_gets_the_data_as_it_is()
    {
        using var response = await ChatAsync("echo-local", _message);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Mobile, SentToVendor());
    }

    [Fact]
    public async Task A_block_rule_refuses_the_request_naming_the_kind_and_nothing_is_sent()
    {
        using var response = await ChatAsync("echo-cloud", "请查询订单 ORD-20261130 的状态");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal("pii_blocked", error["code"]!.GetValue<string>());
        Assert.Contains("order_no", error["message"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task Other_workspaces_are_not_guarded()
    {
        using var other = _host.Client(await _host.CreateKeyAsync(new { name = "default-key" }));
        using var response = await other.PostAsJsonAsync("v1/chat/completions", new { model = "echo-cloud", messages = new[] { new { role = "user", content = _message } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Mobile, SentToVendor());
    }

    [Theory]
    [InlineData("""{"rules":[{"kind":"china_mobile","action":"hide"}]}""", "rules[0].action")]
    [InlineData("""{"rules":[{"kind":"nothing_like_it","action":"mask"}]}""", "rules")]
    [InlineData("""{"patterns":[{"name":"bad","pattern":"(unclosed"}]}""", "patterns[0]")]
    public async Task Bad_rules_are_refused_naming_the_field_and_change_nothing(string body, string field)
    {
        using var response = await _host.Admin.PutAsync("api/workspaces/guarded/pii", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
        var workspaces = (await _host.Admin.GetFromJsonAsync<JsonObject>("api/workspaces"))!["workspaces"]!.AsArray();
        Assert.Equal(3, workspaces.Single(w => w!["name"]!.GetValue<string>() == "guarded")!["pii"]!["rules"]!.AsArray().Count);
    }

    [Fact]
    public async Task Embeddings_inputs_are_masked_too_and_a_block_rule_refuses_them()
    {
        using var response = await _client.PostAsJsonAsync("v1/embeddings", new { model = "embed-cloud", input = new[] { _message, "no personal data here" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonObject>())!["data"]!.AsArray().Count);
        var sent = SentToVendor();
        Assert.DoesNotContain(Mobile, sent);
        Assert.Contains("no personal data here", sent);

        using var blocked = await _client.PostAsJsonAsync("v1/embeddings", new { model = "embed-cloud", input = "订单 ORD-20261130" });
        Assert.Equal(HttpStatusCode.BadRequest, blocked.StatusCode);
        Assert.Equal("input", (await blocked.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["param"]!.GetValue<string>());
    }
}
