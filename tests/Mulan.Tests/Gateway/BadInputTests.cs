using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway;

/// <summary>Every malformed or disallowed /v1 request gets the contract's status and code, reaches no vendor,
/// and leaves at most one "rejected" record with no tokens and no cost.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _key = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _key = await _host.CreateKeyAsync(new { name = "limited", models = new[] { "chat", "embed" } });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<(HttpStatusCode Status, JsonObject Error, HttpResponseMessage Response)> PostAsync(string key, string path, string body)
    {
        using var http = _host.Client(key);
        var response = await http.PostAsync(path, Json(body));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        return (response.StatusCode, json["error"]!.AsObject(), response);
    }

    [Theory]
    [InlineData("{\"model\":\"chat\",\"messages\":[", "invalid_json")]
    [InlineData("[1,2]", "invalid_json")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "missing_model")]
    [InlineData("{\"model\":\"chat\"}", null)]
    [InlineData("{\"model\":\"chat\",\"messages\":[]}", null)]
    [InlineData("{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}", null)]
    public async Task Malformed_chat_requests_are_400_invalid_request_error(string body, string? code)
    {
        var (status, error, response) = await PostAsync(_key, "v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(code, error["code"]?.GetValue<string>());
        Assert.True(response.Headers.Contains("x-mulan-request-id"));
        Assert.Empty(_host.Vendor.Requests);
        var record = Assert.Single(await _host.UsageRecordsAsync());
        Assert.Equal("rejected", record["status"]!.GetValue<string>());
        Assert.Equal(0, record["inputTokens"]!.GetValue<long>());
        Assert.Equal(0m, record["cost"]!["amount"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Unknown_model_is_404_model_not_found()
    {
        var (status, error, _) = await PostAsync(_key, "v1/chat/completions", """{"model":"nope","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", error["code"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task Model_outside_the_allowlist_is_403_model_not_allowed()
    {
        var (status, error, _) = await PostAsync(_key, "v1/chat/completions", """{"model":"chat-cny","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("model_not_allowed", error["code"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Requests);
        Assert.Equal("rejected", Assert.Single(await _host.UsageRecordsAsync())["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer mk-doesnotexist")]
    [InlineData("Bearer sk-something-else")]
    [InlineData("Basic Zm9vOmJhcg==")]
    public async Task Missing_or_unknown_key_is_401_invalid_api_key_and_not_recorded(string? authorization)
    {
        using var http = new HttpClient { BaseAddress = _host.BaseUrl };
        if (authorization is not null)
        {
            http.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }
        var response = await http.PostAsync("v1/chat/completions", Json("""{"model":"chat","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_api_key", error["code"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Requests);
        Assert.Empty(await _host.UsageRecordsAsync());
        var models = await http.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    [Fact]
    public async Task Revoked_key_is_401_at_once()
    {
        using var created = await _host.Admin.PostAsJsonAsync("api/keys", new { name = "short-lived" });
        var json = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var key = json["key"]!.GetValue<string>();
        using (var http = _host.Client(key))
        {
            var ok = await http.PostAsync("v1/embeddings", Json("""{"model":"embed","input":"hello"}"""));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        var revoke = await _host.Admin.DeleteAsync($"api/keys/{json["id"]}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var (status, error, _) = await PostAsync(key, "v1/embeddings", """{"model":"embed","input":"hello"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", error["code"]!.GetValue<string>());
        Assert.Single(_host.Vendor.Requests);
    }

    [Fact]
    public async Task Expired_key_is_401()
    {
        var key = await _host.CreateKeyAsync(new { name = "expiring", expiresAt = DateTimeOffset.UtcNow.AddSeconds(1) });
        await Task.Delay(1200);
        var (status, error, _) = await PostAsync(key, "v1/chat/completions", """{"model":"chat","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", error["code"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task Oversized_body_is_413_and_not_forwarded()
    {
        var huge = new string('x', 17 * 1024 * 1024);
        var (status, error, _) = await PostAsync(_key, "v1/chat/completions", $$"""{"model":"chat","messages":[{"role":"user","content":"{{huge}}"}]}""");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", error["code"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Requests);
        Assert.Equal(413, Assert.Single(await _host.UsageRecordsAsync())["httpStatus"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"model":"chat","messages":[{"role":"user","content":"hi"}],"api_base":"http://169.254.169.254/"}""", "api_base")]
    [InlineData("""{"model":"chat","messages":[{"role":"user","content":"hi"}],"base_url":"http://127.0.0.1:1/v1"}""", "base_url")]
    [InlineData("""{"model":"chat","messages":[{"role":"user","content":"hi"}],"extra_body":{"apiBase":"http://evil.example/"}}""", "apiBase")]
    [InlineData("""{"model":"chat","messages":[{"role":"user","content":"hi","metadata":{"api-key":"sk-x"}}]}""", "api-key")]
    [InlineData("""{"model":"embed","input":"hi","litellm_params":{"api_base":"http://10.0.0.1/"}}""", "api_base")]
    public async Task Smuggled_upstream_urls_are_refused_and_never_followed(string body, string param)
    {
        var path = body.Contains("\"embed\"") ? "v1/embeddings" : "v1/chat/completions";
        var (status, error, _) = await PostAsync(_key, path, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unsupported_parameter", error["code"]!.GetValue<string>());
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Empty(_host.Vendor.Requests);
    }

    [Fact]
    public async Task A_tool_schema_may_name_a_property_base_url()
    {
        var body = """
            {"model":"chat","messages":[{"role":"user","content":"hi"}],
             "tools":[{"type":"function","function":{"name":"fetch","parameters":{"type":"object","properties":{"base_url":{"type":"string"}}}}}]}
            """;
        using var http = _host.Client(_key);
        var response = await http.PostAsync("v1/chat/completions", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = Assert.Single(_host.Vendor.Requests);
        Assert.Contains("base_url", Encoding.UTF8.GetString(forwarded.Body));
        Assert.Equal("/v1/chat/completions", forwarded.Path);
    }

    [Fact]
    public async Task Unknown_v1_path_is_an_openai_404()
    {
        using var http = _host.Client(_key);
        var response = await http.GetAsync("v1/assistants");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_url", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }
}
