using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.FakeVendor;
using Mulan.Gateway;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Spark;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>OpenAI clients served by iFlytek Spark over a signed WebSocket: translation both ways, frames, tools, errors.</summary>
public sealed class SparkAdapterTests : AdapterTestHost
{
    // {KEY} is the fake's key, which is the APISecret; APPID and APIKey are the fake's fixed "fakeapp" and "fakekey".
    protected override string Catalog => """
        {
          "providers": [ { "name": "spark", "kind": "spark", "baseUrl": "{ORIGIN}", "apiKey": "fakeapp:fakekey:{KEY}" },
                         { "name": "spark-badsecret", "kind": "spark", "baseUrl": "{ORIGIN}", "apiKey": "fakeapp:fakekey:not-the-secret" },
                         { "name": "spark-badapp", "kind": "spark", "baseUrl": "{ORIGIN}", "apiKey": "otherapp:fakekey:{KEY}" },
                         { "name": "spark-twoparts", "kind": "spark", "baseUrl": "{ORIGIN}", "apiKey": "fakekey:{KEY}" } ],
          "models": [
            { "name": "spark", "deployments": [ { "provider": "spark", "model": "generalv3.5+chunks=6", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-lite", "deployments": [ { "provider": "spark", "model": "lite+chunks=3", "price": { "currency": "CNY", "input": 0, "output": 0 } } ] },
            { "name": "spark-tools", "deployments": [ { "provider": "spark", "model": "4.0Ultra+tools", "price": { "currency": "CNY", "input": 70, "output": 70 } } ] },
            { "name": "spark-nousage", "deployments": [ { "provider": "spark", "model": "generalv3.5+chunks=4+nousage", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-quota", "deployments": [ { "provider": "spark", "model": "generalv3.5+quota", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-filter", "deployments": [ { "provider": "spark", "model": "generalv3.5+filter", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-429", "deployments": [ { "provider": "spark", "model": "generalv3.5+fail=429", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-unknown", "deployments": [ { "provider": "spark", "model": "general+chunks=2", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-badsecret", "deployments": [ { "provider": "spark-badsecret", "model": "generalv3.5", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-badapp", "deployments": [ { "provider": "spark-badapp", "model": "generalv3.5", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-twoparts", "deployments": [ { "provider": "spark-twoparts", "model": "generalv3.5", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-midstream", "deployments": [ { "provider": "spark", "model": "generalv3.5+chunks=6+errorevent=3", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] },
            { "name": "spark-reset", "deployments": [ { "provider": "spark", "model": "generalv3.5+chunks=6+reset=3", "price": { "currency": "CNY", "input": 30, "output": 30 } } ] }
          ]
        }
        """;

    private IReadOnlyList<ReceivedRequest> SentFrames => [.. Host.Vendor.Requests.Where(r => r.Method == "WS")];

    [Fact]
    public void Request_translation_puts_system_first_and_renders_tool_turns_as_text()
    {
        var openAI = JsonNode.Parse("""
            {"model":"spark","max_tokens":100,"temperature":1.5,"user":"u1",
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]},
               {"role":"assistant","content":null,"tool_calls":[
                 {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                 {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18C"},
               {"role":"tool","tool_call_id":"call_2","content":"noon"},
               {"role":"developer","content":"Use Celsius."}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """)!.AsObject();
        var before = openAI.ToJsonString();
        var frame = SparkAdapter.TranslateRequest(openAI, "generalv3.5+tools", "app1");
        var expected = JsonNode.Parse("""
            {"header":{"app_id":"app1","uid":"u1"},
             "parameter":{"chat":{"domain":"generalv3.5+tools","temperature":1,"max_tokens":100}},
             "payload":{
               "message":{"text":[
                 {"role":"system","content":"Be brief.\n\nUse Celsius."},
                 {"role":"user","content":"Weather in Paris?"},
                 {"role":"assistant","content":"Calling tool get_weather with arguments {\"city\":\"Paris\"}\nCalling tool get_time with arguments {}"},
                 {"role":"user","content":"Tool get_weather returned: 18C\n\nTool get_time returned: noon"}]},
               "functions":{"text":[{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, frame), frame.ToJsonString());
        Assert.Equal(before, openAI.ToJsonString()); // the client's body is read, never changed
    }

    [Fact]
    public void Request_translation_refuses_images_and_honours_tool_choice_none()
    {
        var image = JsonNode.Parse("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}""")!.AsObject();
        Assert.Equal(VendorError.InvalidRequest, Assert.Throws<VendorError>(() => SparkAdapter.TranslateRequest(image, "lite", "a")).Code);

        var none = JsonNode.Parse("""
            {"messages":[{"role":"user","content":"hi"}],"tool_choice":"none",
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}
            """)!.AsObject();
        Assert.Null(SparkAdapter.TranslateRequest(none, "lite", "a")["payload"]!["functions"]);
    }

    [Theory]
    [InlineData("generalv3.5+chunks=6+tools", "/v3.5/chat")]
    [InlineData("lite", "/v1.1/chat")]
    [InlineData("generalv3", "/v3.1/chat")]
    [InlineData("pro-128k", "/chat/pro-128k")]
    [InlineData("max-32k+gap=5", "/chat/max-32k")]
    [InlineData("4.0Ultra", "/v4.0/chat")]
    public void The_domain_before_the_first_plus_picks_the_path(string model, string path)
    {
        Assert.Equal(path, SparkAdapter.PathFor(new Uri("https://spark-api.xf-yun.com"), model));
    }

    [Fact]
    public void Unknown_domains_base_urls_and_malformed_keys()
    {
        Assert.Equal(VendorError.ModelNotFound, Assert.Throws<VendorError>(() => SparkAdapter.PathFor(new Uri("https://spark-api.xf-yun.com"), "general+chunks=2")).Code);
        Assert.Equal("/spark/v3.5/chat", SparkAdapter.PathFor(new Uri("https://proxy.example/spark/"), "generalv3.5"));
        Assert.Equal(new Uri("wss://spark-api.xf-yun.com"), SparkAdapter.SocketBase(new Uri("https://spark-api.xf-yun.com")));
        Assert.Equal(new Uri("ws://127.0.0.1:5000"), SparkAdapter.SocketBase(new Uri("http://127.0.0.1:5000/")));
        Assert.Equal(("a", "b", "c"), SparkAdapter.Credentials("a:b:c"));
        foreach (var bad in new[] { "only-a-secret-value", "a:secret-value", "a:b:c:secret-value", "a::secret-value", null })
        {
            var e = Assert.Throws<VendorError>(() => SparkAdapter.Credentials(bad));
            Assert.Equal(VendorError.AuthFailed, e.Code);
            Assert.Contains("APPID:APIKey:APISecret", e.Message);
            Assert.DoesNotContain("secret-value", e.Message);
        }
    }

    [Fact]
    public async Task Frame_translation_of_the_documented_text_sequence()
    {
        // The last frame is the response example of iFlytek's Spark Web API document (§1.4); the two before it
        // are partial frames (status 0 and 1) of the same shape, which carry no usage.
        string[] frames =
        [
            """{"header":{"code":0,"message":"Success","sid":"cht000cb087@dx18793cd421fb894542","status":0},"payload":{"choices":{"status":0,"seq":0,"text":[{"content":"你好，","role":"assistant","index":0}]}}}""",
            """{"header":{"code":0,"message":"Success","sid":"cht000cb087@dx18793cd421fb894542","status":1},"payload":{"choices":{"status":1,"seq":1,"text":[{"content":"有什么","role":"assistant","index":0}]}}}""",
            """{"header":{"code":0,"message":"Success","sid":"cht000cb087@dx18793cd421fb894542","status":2},"payload":{"choices":{"status":2,"seq":0,"text":[{"content":"我可以帮助你的吗？","role":"assistant","index":0}]},"usage":{"text":{"question_tokens":4,"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}}}""",
        ];
        var chunks = await TranslateAsync(frames);
        Assert.Equal(5, chunks.Count);
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("你好，有什么我可以帮助你的吗？", string.Concat(chunks.Take(3).Select(c => c["choices"]![0]!["delta"]!["content"]!.GetValue<string>())));
        Assert.Equal("stop", chunks[3]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Empty(chunks[4]["choices"]!.AsArray());
        Assert.Equal(5, chunks[4]["usage"]!["prompt_tokens"]!.GetValue<long>()); // prompt_tokens (history included), not question_tokens
        Assert.Equal(9, chunks[4]["usage"]!["completion_tokens"]!.GetValue<long>());
        Assert.All(chunks, c => Assert.Equal("cht000cb087@dx18793cd421fb894542", c["id"]!.GetValue<string>()));

        var completion = await SparkAdapter.CollectAsync(SparkAdapter.TranslateStream(Frames(frames), "spark", CancellationToken.None), "spark", CancellationToken.None);
        Assert.Equal("你好，有什么我可以帮助你的吗？", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(14, completion["usage"]!["total_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task Frame_translation_of_a_function_call()
    {
        // A function_call arrives whole, its arguments a JSON string (fields as the Web API document lists them).
        string[] frames =
        [
            """{"header":{"code":0,"message":"Success","sid":"cht000b41d5@dx18e1da2d0c7a894532","status":2},"payload":{"choices":{"status":2,"seq":0,"text":[{"content":"","role":"assistant","content_type":"function_call","function_call":{"arguments":"{\"datetime\":\"明天\",\"location\":\"合肥\"}","name":"天气查询"},"index":0}]},"usage":{"text":{"question_tokens":3,"prompt_tokens":3,"completion_tokens":26,"total_tokens":29}}}}""",
        ];
        var chunks = await TranslateAsync(frames);
        Assert.Equal(3, chunks.Count);
        var call = chunks[0]["choices"]![0]!["delta"]!["tool_calls"]![0]!;
        Assert.Equal(0, call["index"]!.GetValue<int>());
        Assert.Equal("天气查询", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"datetime":"明天","location":"合肥"}""", call["function"]!["arguments"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(call["id"]!.GetValue<string>()));
        Assert.Null(chunks[0]["choices"]![0]!["delta"]!["content"]);
        Assert.Equal("tool_calls", chunks[1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(26, chunks[2]["usage"]!["completion_tokens"]!.GetValue<long>());

        var completion = await SparkAdapter.CollectAsync(SparkAdapter.TranslateStream(Frames(frames), "spark", CancellationToken.None), "spark", CancellationToken.None);
        Assert.Equal("tool_calls", completion["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("天气查询", completion["choices"]![0]!["message"]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_socket_closed_before_the_status_2_frame_is_a_broken_stream()
    {
        string[] frames = ["""{"header":{"code":0,"message":"Success","sid":"s","status":0},"payload":{"choices":{"status":0,"seq":0,"text":[{"content":"hi","role":"assistant","index":0}]}}}"""];
        await Assert.ThrowsAsync<IOException>(() => TranslateAsync(frames));
    }

    [Theory]
    [InlineData(10013, "input content audit failed", VendorError.ContentFilter)]
    [InlineData(10014, "output content audit failed", VendorError.ContentFilter)]
    [InlineData(10019, "content tends to violate", VendorError.ContentFilter)]
    [InlineData(11200, "AppIdNoAuthError:(11200)auth no license", VendorError.AuthFailed)]
    [InlineData(11200, "AppIdNoAuthError:(11200)licc limit", VendorError.QuotaExhausted)]
    [InlineData(11201, "AppIdNoAuthError:(11201)licc daily limit", VendorError.QuotaExhausted)]
    [InlineData(11202, "AppIdQpsOverFlowError:(11202)qps limit", VendorError.RateLimited)]
    [InlineData(11203, "AppIdConcOverFlowError:(11203)conc limit", VendorError.RateLimited)]
    [InlineData(10907, "token count exceeds the limit", VendorError.InvalidRequest)]
    [InlineData(10163, "request parameter invalid", VendorError.InvalidRequest)]
    [InlineData(10222, "EngineNetworkError", VendorError.ServerError)]
    public async Task Error_frame_table(int code, string message, string expected)
    {
        Assert.Equal(expected, SparkAdapter.MapError(code, message).Code);
        var frame = new JsonObject { ["header"] = new JsonObject { ["code"] = code, ["message"] = message, ["sid"] = "s", ["status"] = 2 } }.ToJsonString();
        var e = await Assert.ThrowsAsync<VendorError>(() => TranslateAsync([frame]));
        Assert.Equal(expected, e.Code);
        Assert.Contains(code.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Theory]
    [InlineData(401, VendorError.AuthFailed)]
    [InlineData(403, VendorError.AuthFailed)]
    [InlineData(404, VendorError.ModelNotFound)]
    [InlineData(429, VendorError.RateLimited)]
    [InlineData(500, VendorError.ServerError)]
    [InlineData(503, VendorError.Overloaded)]
    public void Handshake_refusal_table(int status, string expected) => Assert.Equal(expected, SparkAdapter.HandshakeError(status).Code);

    [Fact]
    public async Task A_gateway_clock_off_by_more_than_300_seconds_is_refused_at_the_handshake()
    {
        var provider = new Provider("spark", ProviderKind.All["spark"], Host.Vendor.Origin, $"fakeapp:fakekey:{Host.Vendor.ApiKey}",
            new Dictionary<string, string>(), CatalogSource.Config);
        var body = Encoding.UTF8.GetBytes("""{"model":"spark","messages":[{"role":"user","content":"hi"}]}""");
        var request = GatewayRequest.Parse(GatewayEndpoint.ChatCompletions, new ReadOnlySequence<byte>(body), out _);
        using var http = new HttpClient();
        var call = new AdapterCall(new Deployment(provider, "generalv3.5+chunks=2", new Price(Currency.CNY, 1, 1, null)), request, "req-clock", http, 1 << 20, TimeSpan.FromSeconds(10));

        var skewed = new SparkAdapter(new ShiftedClock(TimeSpan.FromMinutes(-10)));
        using var refused = await skewed.SendAsync(call, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(VendorError.AuthFailed, (await refused.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<string>());

        var inTime = new SparkAdapter(new ShiftedClock(TimeSpan.FromMinutes(-4)));
        using var answered = await inTime.SendAsync(call, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        var completion = (await answered.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2, completion["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task OpenAI_sdk_chat_and_stream_through_spark()
    {
        var streamed = new List<StreamingChatCompletionUpdate>();
        await AdapterChecks.ChatAndStreamAsync(Sdk, "spark", 6, streamed);
        Assert.True(streamed.Count >= 6, "each frame is relayed as its own chunk");

        ChatCompletion lite = await Sdk.GetChatClient("spark-lite").CompleteChatAsync([new UserChatMessage("Hi")]);
        Assert.Equal(3, lite.Usage.OutputTokenCount);

        await AdapterChecks.RecordsMatchBillsAsync(Host, 3, "spark", outcome: BillOutcome.Completed);
        // The vendor saw its own protocol: the signed socket at the domain's path, system text first, the full model name.
        var handshake = Host.Vendor.Requests.First(r => r.Method == "GET");
        Assert.Equal("/v3.5/chat", handshake.Path);
        var sent = JsonNode.Parse(SentFrames[0].Body)!;
        Assert.Equal("fakeapp", sent["header"]!["app_id"]!.GetValue<string>());
        Assert.Equal("generalv3.5+chunks=6", sent["parameter"]!["chat"]!["domain"]!.GetValue<string>());
        Assert.Equal("system", sent["payload"]!["message"]!["text"]![0]!["role"]!.GetValue<string>());
        Assert.Contains(Host.Vendor.Requests, r => r.Method == "GET" && r.Path == "/v1.1/chat"); // spark-lite's domain
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_through_spark_streamed_and_not()
    {
        var completion = await AdapterChecks.ToolCallsStreamedAndNotAsync(Sdk, "spark-tools");
        Assert.Equal(2, completion.ToolCalls.Select(c => c.Id).Distinct().Count());

        // The functions went out in Spark's shape, and the tool results come back as user text.
        var offered = JsonNode.Parse(SentFrames[0].Body)!["payload"]!["functions"]!["text"]![0]!;
        Assert.Equal("get_weather", offered["name"]!.GetValue<string>());
        Assert.Equal("object", offered["parameters"]!["type"]!.GetValue<string>());
        ChatCompletion next = await Sdk.GetChatClient("spark").CompleteChatAsync(AdapterChecks.WithToolResults(completion));
        Assert.NotEmpty(next.Content[0].Text);
        var text = JsonNode.Parse(SentFrames[^1].Body)!["payload"]!["message"]!["text"]!.AsArray();
        Assert.Equal("assistant", text[1]!["role"]!.GetValue<string>());
        Assert.Contains("Calling tool get_weather", text[1]!["content"]!.GetValue<string>());
        Assert.Equal("user", text[2]!["role"]!.GetValue<string>());
        Assert.Equal("Tool get_weather returned: 18C\n\nTool get_time returned: noon", text[2]!["content"]!.GetValue<string>());

        await AdapterChecks.RecordsMatchBillsAsync(Host, 3, "spark");
    }

    [Fact]
    public async Task Without_usage_in_the_last_frame_the_gateway_estimates()
    {
        using var response = await Http.PostAsJsonAsync("v1/chat/completions", new { model = "spark-nousage", stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("[DONE]", await response.Content.ReadAsStringAsync());
        var record = Assert.Single(await Host.WaitForRecordsAsync(1));
        Assert.Equal("estimated", record["usage"]!.GetValue<string>());
        Assert.Equal(4, record["outputTokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("spark-quota", 502, "upstream_quota_exhausted")]
    [InlineData("spark-filter", 400, "content_filter")]
    [InlineData("spark-429", 503, "upstream_rate_limited")]
    [InlineData("spark-badsecret", 502, "upstream_auth_failed")]
    [InlineData("spark-badapp", 502, "upstream_auth_failed")]
    [InlineData("spark-twoparts", 502, "upstream_auth_failed")]
    [InlineData("spark-unknown", 404, VendorError.ModelNotFound)]
    public async Task Vendor_errors_reach_the_client_as_the_contract_codes(string model, int status, string code)
    {
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code, stream: false, records: 1, secrets: ["not-the-secret"]);
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code, stream: true, records: 2, secrets: ["not-the-secret"]);
        Assert.DoesNotContain(Host.Vendor.ApiKey, Host.Logs.Text);
    }

    [Fact]
    public async Task A_bad_signature_is_refused_by_the_vendor_at_the_handshake()
    {
        using var response = await Http.PostAsJsonAsync("v1/chat/completions", new { model = "spark-badsecret", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Empty(SentFrames); // no request frame: the socket never opened
        var bill = Assert.Single(Host.Vendor.Ledger.Bills);
        Assert.Equal(BillOutcome.Failed, bill.Outcome);
        Assert.Equal(0, bill.TotalTokens);
    }

    [Fact]
    public async Task An_error_frame_mid_stream_ends_with_a_clean_error_and_a_record_of_what_was_streamed() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "spark-midstream", 3, outcome: BillOutcome.Failed);

    [Fact]
    public async Task A_socket_cut_mid_stream_ends_with_a_clean_error_and_a_record_of_what_was_streamed() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "spark-reset", 3, outcome: BillOutcome.Reset);

    [Fact]
    public async Task Embeddings_are_refused_as_not_offered()
    {
        using var response = await Http.PostAsJsonAsync("v1/embeddings", new { model = "spark", input = "hi" });
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("does not offer embeddings", await response.Content.ReadAsStringAsync());
        Assert.Empty(Host.Vendor.Requests);
    }

    private static async Task<List<JsonObject>> TranslateAsync(string[] frames)
    {
        var chunks = new List<JsonObject>();
        await foreach (var chunk in SparkAdapter.TranslateStream(Frames(frames), "spark", CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        return chunks;
    }

    private static async IAsyncEnumerable<string> Frames(string[] frames, [EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var frame in frames)
        {
            await Task.Yield();
            ct.ThrowIfCancellationRequested();
            yield return frame;
        }
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + shift;
    }
}
