using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.DashScope;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>OpenAI clients served by Alibaba DashScope's native API: translation, native SSE, errors, batched embeddings.</summary>
public sealed class DashScopeAdapterTests : AdapterTestHost
{
    protected override string Catalog => """
        {
          "providers": [ { "name": "dashscope", "kind": "dashscope", "baseUrl": "{ORIGIN}", "apiKey": "env:FAKE_VENDOR_KEY" },
                         { "name": "dashscope-badkey", "kind": "dashscope", "baseUrl": "{ORIGIN}", "apiKey": "sk-not-the-key" } ],
          "models": [
            { "name": "qwen", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+chunks=6", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-tools", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+tools", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-quota", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+quota", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-filter", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+filter", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-429", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+fail=429", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-500", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+fail=500", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-badkey", "deployments": [ { "provider": "dashscope-badkey", "model": "qwen-fake", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-midstream", "deployments": [ { "provider": "dashscope", "model": "qwen-fake+chunks=6+errorevent=3", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "qwen-embed", "deployments": [ { "provider": "dashscope", "model": "text-embedding-v4", "price": { "currency": "CNY", "input": 0.5, "output": 0 } } ] }
          ]
        }
        """;

    [Fact]
    public void Request_translation_puts_messages_in_input_and_options_in_parameters()
    {
        var openAI = JsonNode.Parse("""
            {"model":"qwen","max_completion_tokens":100,"temperature":2,"top_p":0.8,"seed":7,"stop":["END","STOP"],"user":"u1",
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":[{"type":"text","text":"Weather?"}]},
               {"role":"assistant","content":null,"tool_calls":[
                 {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18C"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":"required"}
            """)!.AsObject();
        var body = DashScopeAdapter.TranslateRequest(openAI, "qwen-plus", stream: true);
        var expected = JsonNode.Parse("""
            {"model":"qwen-plus",
             "input":{"messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":"Weather?"},
               {"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","content":"18C","tool_call_id":"call_1"}]},
             "parameters":{"result_format":"message","incremental_output":true,"temperature":1.99,"top_p":0.8,"max_tokens":100,"seed":7,"stop":["END","STOP"],
               "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
               "tool_choice":{"type":"function","function":{"name":"get_weather"}}}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body), body.ToJsonString());

        var plain = DashScopeAdapter.TranslateRequest(JsonNode.Parse("""{"model":"q","messages":[{"role":"user","content":"hi"}]}""")!.AsObject(), "qwen-plus", stream: false);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"result_format":"message"}"""), plain["parameters"]), plain.ToJsonString());
    }

    [Fact]
    public void Response_translation_from_the_documented_shape()
    {
        var completion = DashScopeAdapter.TranslateResponse(JsonNode.Parse("""
            {"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":"我是阿里云开发的一款超大规模语言模型，我叫通义千问。"}}]},
             "usage":{"total_tokens":92,"output_tokens":66,"input_tokens":26,"prompt_tokens_details":{"cached_tokens":10}},
             "request_id":"d30a9914-ac97-9102-b746-ce0cb35e3fa2"}
            """)!.AsObject(), "qwen");
        Assert.Equal("d30a9914-ac97-9102-b746-ce0cb35e3fa2", completion["id"]!.GetValue<string>());
        Assert.Equal("我是阿里云开发的一款超大规模语言模型，我叫通义千问。", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(26, completion["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(66, completion["usage"]!["completion_tokens"]!.GetValue<long>());
        Assert.Equal(10, completion["usage"]!["prompt_tokens_details"]!["cached_tokens"]!.GetValue<long>());

        var tools = DashScopeAdapter.TranslateResponse(JsonNode.Parse("""
            {"output":{"choices":[{"finish_reason":"tool_calls","message":{"role":"assistant","content":"",
              "tool_calls":[{"index":0,"id":"call_6596dafa2a6a46f7a217da","type":"function","function":{"name":"get_current_weather","arguments":"{\"location\": \"杭州市\"}"}}]}}]},
             "usage":{"total_tokens":235,"output_tokens":18,"input_tokens":217},"request_id":"r"}
            """)!.AsObject(), "qwen");
        var call = tools["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("call_6596dafa2a6a46f7a217da", call["id"]!.GetValue<string>());
        Assert.Equal("{\"location\": \"杭州市\"}", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("tool_calls", tools["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Null(tools["choices"]![0]!["message"]!["content"]);
    }

    [Fact]
    public async Task Stream_translation_of_the_documented_event_sequence()
    {
        // The qwen-plus incremental_output example of DashScope's streaming documentation (events 1, 2 and 15).
        const string events = """
            id:1
            event:result
            :HTTP_STATUS/200
            data:{"output":{"choices":[{"message":{"content":"我是","role":"assistant"},"finish_reason":"null"}]},"usage":{"total_tokens":27,"output_tokens":1,"input_tokens":26,"prompt_tokens_details":{"cached_tokens":0}},"request_id":"d30a9914-ac97-9102-b746-ce0cb35e3fa2"}

            id:2
            event:result
            :HTTP_STATUS/200
            data:{"output":{"choices":[{"message":{"content":"通义千","role":"assistant"},"finish_reason":"null"}]},"usage":{"total_tokens":30,"output_tokens":4,"input_tokens":26,"prompt_tokens_details":{"cached_tokens":0}},"request_id":"d30a9914-ac97-9102-b746-ce0cb35e3fa2"}

            id:15
            event:result
            :HTTP_STATUS/200
            data:{"output":{"choices":[{"message":{"content":"","role":"assistant"},"finish_reason":"stop"}]},"usage":{"total_tokens":92,"output_tokens":66,"input_tokens":26,"prompt_tokens_details":{"cached_tokens":0}},"request_id":"d30a9914-ac97-9102-b746-ce0cb35e3fa2"}

            """;
        var chunks = await TranslateAsync(events);
        Assert.Equal("我是通义千", string.Concat(chunks.Select(Content)));
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("stop", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(26, chunks[^1]["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(66, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<long>());
        Assert.All(chunks, c => Assert.Equal("d30a9914-ac97-9102-b746-ce0cb35e3fa2", c["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_stream_error_event_is_an_error_and_a_stream_without_a_finish_reason_is_broken()
    {
        // The error event as DashScope sends it (from a gateway's record of the native protocol).
        const string failed = """
            event:error
            :HTTP_STATUS/400
            data:{"code":"InvalidParameter","message":"Preprocessor error","request_id":"0cbe6006-faec-9854-bf8b-c906d75c3bd8"}

            """;
        var error = await Assert.ThrowsAsync<VendorError>(() => TranslateAsync(failed));
        Assert.Equal(VendorError.InvalidRequest, error.Code);
        Assert.Contains("Preprocessor error", error.Message);

        const string cut = """
            id:1
            event:result
            :HTTP_STATUS/200
            data:{"output":{"choices":[{"message":{"content":"我是","role":"assistant"},"finish_reason":"null"}]},"usage":{"total_tokens":27,"output_tokens":1,"input_tokens":26},"request_id":"r"}

            """;
        await Assert.ThrowsAsync<IOException>(() => TranslateAsync(cut));
    }

    [Theory]
    [InlineData(400, "InvalidParameter", VendorError.InvalidRequest)]
    [InlineData(400, "DataInspectionFailed", VendorError.ContentFilter)]
    [InlineData(400, "data_inspection_failed", VendorError.ContentFilter)]
    [InlineData(400, "Arrearage", VendorError.QuotaExhausted)]
    [InlineData(403, "AllocationQuota.FreeTierOnly", VendorError.QuotaExhausted)]
    [InlineData(401, "InvalidApiKey", VendorError.AuthFailed)]
    [InlineData(403, "AccessDenied", VendorError.AuthFailed)]
    [InlineData(403, "AccessDenied.Unpurchased", VendorError.AuthFailed)]
    [InlineData(408, "RequestTimeOut", VendorError.ServerError)]
    [InlineData(429, "Throttling", VendorError.RateLimited)]
    [InlineData(429, "Throttling.RateQuota", VendorError.RateLimited)]
    [InlineData(429, "Throttling.AllocationQuota", VendorError.RateLimited)]
    [InlineData(500, "InternalError", VendorError.ServerError)]
    [InlineData(500, "InternalError.Algo", VendorError.ServerError)]
    [InlineData(503, "ServiceUnavailable", VendorError.Overloaded)]
    [InlineData(404, "ModelNotFound", VendorError.ModelNotFound)]
    public void Error_mapping_table(int status, string code, string canonical)
    {
        var body = JsonNode.Parse($$"""{"request_id":"r","code":"{{code}}","message":"m"}""");
        var error = DashScopeAdapter.MapError(status, body, null);
        Assert.Equal(canonical, error.Code);
        Assert.Contains(code, error.Message);
        if (code == "RequestTimeOut")
        {
            Assert.Equal(408, error.Status);
        }
    }

    [Fact]
    public async Task OpenAI_sdk_chat_and_stream_through_dashscope()
    {
        // Six streamed words, not a running repetition: the fake repeats the whole text unless incremental_output is on.
        await AdapterChecks.ChatAndStreamAsync(Sdk, "qwen", 6);
        await AdapterChecks.RecordsMatchBillsAsync(Host, 2, "dashscope", outcome: BillOutcome.Completed);
        var requests = Host.Vendor.Requests.Where(r => r.Path == DashScopeAdapter.GenerationPath).ToList();
        Assert.False(requests[0].Headers.ContainsKey("X-DashScope-SSE"));
        Assert.Equal("enable", requests[1].Headers["X-DashScope-SSE"]);
        Assert.Equal("Bearer " + Host.Vendor.ApiKey, requests[1].Headers["Authorization"]);
        var sent = JsonNode.Parse(requests[0].Body)!;
        Assert.Equal("system", sent["input"]!["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Null(sent["messages"]);
        Assert.Null(sent["stream"]);
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_through_dashscope_streamed_and_not()
    {
        var completion = await AdapterChecks.ToolCallsStreamedAndNotAsync(Sdk, "qwen-tools", argumentsVerbatim: true);

        ChatCompletion next = await Sdk.GetChatClient("qwen").CompleteChatAsync(AdapterChecks.WithToolResults(completion), AdapterChecks.WeatherTool());
        Assert.NotEmpty(next.Content[0].Text);
        var sent = JsonNode.Parse(Host.Vendor.Requests.Last(r => r.Path == DashScopeAdapter.GenerationPath).Body)!;
        Assert.Equal(completion.ToolCalls[1].Id, sent["input"]!["messages"]![3]!["tool_call_id"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(sent["parameters"]!["tools"]![0]!["function"]!["parameters"]!.ToJsonString()).RootElement.ValueKind);

        await AdapterChecks.RecordsMatchBillsAsync(Host, 3, "dashscope");
    }

    [Theory]
    [InlineData("qwen-quota", false, 502, "upstream_quota_exhausted")]
    [InlineData("qwen-quota", true, 502, "upstream_quota_exhausted")]
    [InlineData("qwen-filter", false, 400, "content_filter")]
    [InlineData("qwen-filter", true, 400, "content_filter")]
    [InlineData("qwen-429", true, 503, "upstream_rate_limited")]
    [InlineData("qwen-500", false, 502, "upstream_error")]
    [InlineData("qwen-badkey", false, 502, "upstream_auth_failed")]
    [InlineData("qwen-badkey", true, 502, "upstream_auth_failed")]
    public async Task Vendor_errors_reach_the_client_as_the_contract_codes(string model, bool stream, int status, string code)
    {
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code, stream, secrets: ["sk-not-the-key"]);
        Assert.Equal(BillOutcome.Failed, Assert.Single(Host.Vendor.Ledger.Bills).Outcome);
    }

    [Fact]
    public async Task A_stream_request_is_refused_as_a_stream_error_event_by_the_fake()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Host.Vendor.Origin, DashScopeAdapter.GenerationPath))
        {
            Content = new StringContent("""{"model":"qwen-fake+filter","input":{"messages":[{"role":"user","content":"hi"}]}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Host.Vendor.ApiKey);
        request.Headers.TryAddWithoutValidation("X-DashScope-SSE", "enable");
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("event:error\n:HTTP_STATUS/400\ndata:{", body, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"DataInspectionFailed\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_event_mid_stream_ends_with_a_clean_error_and_a_record_of_what_was_streamed() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "qwen-midstream", 3);

    [Fact]
    public async Task More_than_ten_embedding_inputs_go_in_batches_merged_in_order()
    {
        var inputs = Enumerable.Range(0, 23).Select(i => $"text number {i}").ToArray();
        using var response = await Http.PostAsJsonAsync("v1/embeddings", new { model = "qwen-embed", input = inputs, dimensions = 64 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = (await response.Content.ReadFromJsonAsync<JsonObject>())!["data"]!.AsArray();
        Assert.Equal(23, data.Count);
        Assert.All(data, d => Assert.Equal(64, d!["embedding"]!.AsArray().Count));

        // Three calls of 10, 10 and 3 texts; vector i is the one the vendor gives text i alone.
        var calls = Host.Vendor.Requests.Where(r => r.Path == DashScopeAdapter.EmbeddingPath).Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal([10, 10, 3], calls.Select(c => c["input"]!["texts"]!.AsArray().Count));
        Assert.All(calls, c => Assert.Equal(64, c["parameters"]!["dimension"]!.GetValue<int>()));
        Assert.Equal(inputs, calls.SelectMany(c => c["input"]!["texts"]!.AsArray().Select(t => t!.GetValue<string>())));
        using var single = await Http.PostAsJsonAsync("v1/embeddings", new { model = "qwen-embed", input = inputs[17], dimensions = 64 });
        var alone = (await single.Content.ReadFromJsonAsync<JsonObject>())!["data"]![0]!["embedding"]!.AsArray();
        Assert.Equal(alone.Select(v => v!.GetValue<float>()), data[17]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));

        // One usage record, the sum of the three bills.
        var records = await Host.WaitForRecordsAsync(2);
        var first = records.Single(r => Host.Vendor.Ledger.Bills.Count(b => b.MulanRequestId == r["requestId"]!.GetValue<string>()) == 3);
        var bills = Host.Vendor.Ledger.Bills.Where(b => b.MulanRequestId == first["requestId"]!.GetValue<string>()).ToList();
        Assert.All(bills, b => Assert.Equal("embeddings", b.Endpoint));
        Assert.Equal(bills.Sum(b => b.PromptTokens), first["inputTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_official_sdk_gets_batched_embeddings_in_base64()
    {
        var inputs = Enumerable.Range(0, 12).Select(i => $"line {i}").ToArray();
        var embeddings = await Sdk.GetEmbeddingClient("qwen-embed").GenerateEmbeddingsAsync(inputs);
        Assert.Equal(12, embeddings.Value.Count);
        Assert.All(embeddings.Value, e => Assert.Equal(1024, e.ToFloats().Length));
        Assert.NotEqual(embeddings.Value[0].ToFloats().ToArray(), embeddings.Value[11].ToFloats().ToArray());
        Assert.Equal(2, Host.Vendor.Requests.Count(r => r.Path == DashScopeAdapter.EmbeddingPath));
    }

    [Fact]
    public async Task The_fake_refuses_more_than_ten_texts_in_one_call()
    {
        var texts = string.Join(",", Enumerable.Range(0, 11).Select(i => $"\"t{i}\""));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Host.Vendor.Origin, DashScopeAdapter.EmbeddingPath))
        {
            Content = new StringContent($$$"""{"model":"text-embedding-v4","input":{"texts":[{{{texts}}}]}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Host.Vendor.ApiKey);
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("InvalidParameter", body["code"]!.GetValue<string>());
        Assert.Contains("should not be larger than 10", body["message"]!.GetValue<string>());
    }

    private static async Task<List<JsonObject>> TranslateAsync(string events)
    {
        var chunks = new List<JsonObject>();
        await foreach (var chunk in DashScopeAdapter.TranslateStream(new MemoryStream(Encoding.UTF8.GetBytes(events)), "qwen", CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        return chunks;
    }

    private static string? Content(JsonObject chunk) => chunk["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"]?.GetValue<string>();
}
