using System.Net.Http.Json;
using System.Text;
using Mulan.FakeVendor;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway;

/// <summary>Vendor keys, virtual keys and the admin key never appear in logs (captured at Trace) or in any response.</summary>
public sealed class SecretLeakTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Secrets_never_appear_in_logs_or_responses()
    {
        var seen = new StringBuilder();
        (await _host.Admin.PostAsJsonAsync("api/providers", new { name = "wrong-key", kind = "openai", baseUrl = _host.Vendor.BaseUrl.ToString(), apiKey = "sk-wrong-but-secret-123456" })).EnsureSuccessStatusCode();
        (await _host.Admin.PostAsJsonAsync("api/models", new { name = "bad-auth", deployments = new[] { new { provider = "wrong-key", model = "fake-chat", price = new { currency = "USD", input = 1, output = 1 } } } })).EnsureSuccessStatusCode();
        var response = await _host.Admin.PostAsJsonAsync("api/keys", new { name = "leak-check" });
        var created = await response.Content.ReadAsStringAsync();
        var key = System.Text.Json.Nodes.JsonNode.Parse(created)!["key"]!.GetValue<string>();
        using var http = StreamReading.AbortingClient(_host.BaseUrl, key);

        foreach (var model in new[] { "chat", "chat-429", "chat-500", "bad-auth", "chat-claude", "nope" })
        {
            foreach (var stream in new[] { false, true })
            {
                using var r = await http.SendAsync(StreamReading.Chat(model, stream));
                seen.Append(r.Headers).Append(await r.Content.ReadAsStringAsync());
            }
        }
        using (var reset = await http.SendAsync(StreamReading.Chat("chat-reset", true)))
        {
            seen.Append(await reset.Content.ReadAsStringAsync());
        }
        using (var bad = await http.PostAsync("v1/chat/completions", new StringContent("{\"model\":", Encoding.UTF8, "application/json")))
        {
            seen.Append(await bad.Content.ReadAsStringAsync());
        }
        using var wrong = StreamReading.AbortingClient(_host.BaseUrl, key + "x");
        seen.Append(await (await wrong.SendAsync(StreamReading.Chat("chat", false))).Content.ReadAsStringAsync());
        foreach (var path in new[] { "api/keys", "api/providers", "api/models", "api/usage", "api/workspaces" })
        {
            seen.Append(await _host.Admin.GetStringAsync(path));
        }
        Assert.Contains("upstream_auth_failed", seen.ToString());

        var everything = seen + "\n" + _host.Logs.Text;
        Assert.NotEmpty(_host.Logs.Text);
        foreach (var secret in new[] { _host.Vendor.ApiKey, "sk-wrong-but-secret-123456", "sk-ant-not-used", key, key[3..], MulanHost.AdminKey })
        {
            Assert.DoesNotContain(secret, everything);
        }
    }

    [Fact]
    public void Upstream_messages_are_scrubbed_of_the_provider_key()
    {
        var provider = new Provider("p", ProviderKind.All["openai"], new Uri("http://127.0.0.1/"), "sk-abcdef123456",
            new Dictionary<string, string>(), CatalogSource.Config);
        var deployment = new Deployment(provider, "m", new Price(Currency.USD, 1, 1, null));
        var (error, _) = UpstreamFailure.FromResponse(deployment, System.Net.HttpStatusCode.BadRequest,
            """{"error":{"message":"Incorrect API key provided: sk-abcdef123456.","code":"x"}}"""u8, null);
        Assert.DoesNotContain("sk-abcdef123456", error.Message);
        Assert.Contains("***", error.Message);
    }

    [Fact]
    public void Each_part_of_a_composite_credential_is_scrubbed()
    {
        var provider = new Provider("p", ProviderKind.All["spark"], new Uri("http://127.0.0.1/"), "app42:key-0123456789abcdef:secret-abcdefghijklmnop",
            new Dictionary<string, string>(), CatalogSource.Config);
        var deployment = new Deployment(provider, "lite", new Price(Currency.CNY, 1, 1, null));
        // A 400 passes the vendor's message on (a 401 never does), so this is where a quoted part could leak.
        var (error, _) = UpstreamFailure.FromResponse(deployment, System.Net.HttpStatusCode.BadRequest,
            """{"message":"api_key key-0123456789abcdef does not match secret-abcdefghijklmnop"}"""u8, null);
        Assert.Contains("api_key *** does not match ***", error.Message);
        Assert.DoesNotContain("key-0123456789abcdef", error.Message);
        Assert.DoesNotContain("secret-abcdefghijklmnop", error.Message);
    }

    [Fact]
    public async Task A_vendor_error_event_mid_stream_reaches_the_client_without_the_vendor_key()
    {
        _host.Vendor.Enqueue(new FakeFault.ErrorEvent(2, $"stream aborted for key {_host.Vendor.ApiKey}"));
        using var client = _host.Client(await _host.CreateKeyAsync());
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("stream aborted for key ***", body);
        Assert.DoesNotContain(_host.Vendor.ApiKey, body);
    }
}
