using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Hunyuan;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>OpenAI clients served by Tencent Hunyuan's native API 3.0: TC3 signing, translation, streams, 200-body errors.</summary>
public sealed class HunyuanAdapterTests : AdapterTestHost
{
    // {KEY} is the fake's key: the fake's key pair is AKIDfake and that key.
    protected override string Catalog => """
        {
          "providers": [ { "name": "hunyuan", "kind": "hunyuan", "baseUrl": "{ORIGIN}", "apiKey": "AKIDfake:{KEY}", "headers": { "X-TC-Region": "ap-guangzhou" } },
                         { "name": "hunyuan-badsig", "kind": "hunyuan", "baseUrl": "{ORIGIN}", "apiKey": "AKIDfake:not-the-secret-key" },
                         { "name": "hunyuan-badid", "kind": "hunyuan", "baseUrl": "{ORIGIN}", "apiKey": "AKIDsomeoneelse:{KEY}" },
                         { "name": "hunyuan-onepart", "kind": "hunyuan", "baseUrl": "{ORIGIN}", "apiKey": "only-a-secret-key" } ],
          "models": [
            { "name": "hunyuan", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-fake+chunks=6", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-tools", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-fake+tools", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-quota", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-fake+quota", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-filter", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-fake+filter", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-429", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-fake+fail=429", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-busy", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-fake+fail=503", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-badsig", "deployments": [ { "provider": "hunyuan-badsig", "model": "hunyuan-fake", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-badid", "deployments": [ { "provider": "hunyuan-badid", "model": "hunyuan-fake", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-onepart", "deployments": [ { "provider": "hunyuan-onepart", "model": "hunyuan-fake", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-midstream", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-fake+chunks=6+errorevent=3", "price": { "currency": "CNY", "input": 0.8, "output": 2 } } ] },
            { "name": "hunyuan-embed", "deployments": [ { "provider": "hunyuan", "model": "hunyuan-embedding", "price": { "currency": "CNY", "input": 0.7, "output": 0 } } ] }
          ]
        }
        """;

    [Fact]
    public void Request_translation_puts_one_system_message_first_merges_turns_and_stringifies_tool_schemas()
    {
        var openAI = JsonNode.Parse("""
            {"model":"hunyuan","max_tokens":100,"temperature":2.5,"top_p":0.9,"seed":42,"stop":"END",
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":"Weather?"},
               {"role":"user","content":[{"type":"text","text":"In Paris."}]},
               {"role":"assistant","content":null,"tool_calls":[
                 {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18C"},
               {"role":"developer","content":"Answer in French."}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}}}
            """)!.AsObject();
        var body = HunyuanAdapter.TranslateRequest(openAI, "hunyuan-turbo", stream: true);
        var tool = """{"Type":"function","Function":{"Name":"get_weather","Description":"Weather","Parameters":"{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"}}""";
        var expected = JsonNode.Parse($$$"""
            {"Model":"hunyuan-turbo",
             "Messages":[
               {"Role":"system","Content":"Be brief.\n\nAnswer in French."},
               {"Role":"user","Content":"Weather?\n\nIn Paris."},
               {"Role":"assistant","ToolCalls":[{"Id":"call_1","Type":"function","Function":{"Name":"get_weather","Arguments":"{\"city\":\"Paris\"}"}}]},
               {"Role":"tool","Content":"18C","ToolCallId":"call_1"}],
             "Stream":true,"Temperature":2,"TopP":0.9,"Seed":42,
             "Tools":[{{{tool}}}],
             "ToolChoice":"custom","CustomTool":{{{tool}}}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body), body.ToJsonString());
        Assert.Equal("{\"city\":\"Paris\"}", openAI["messages"]![3]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>()); // not mutated
    }

    [Fact]
    public void Request_translation_sends_images_as_contents()
    {
        var openAI = JsonNode.Parse("""
            {"model":"v","messages":[{"role":"user","content":[{"type":"text","text":"Whose logo?"},{"type":"image_url","image_url":{"url":"https://example.com/1.png"}}]}]}
            """)!.AsObject();
        var body = HunyuanAdapter.TranslateRequest(openAI, "hunyuan-vision", stream: false);
        var expected = JsonNode.Parse("""
            {"Role":"user","Contents":[{"Type":"text","Text":"Whose logo?"},{"Type":"image_url","ImageUrl":{"Url":"https://example.com/1.png"}}]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body["Messages"]![0]), body.ToJsonString());
    }

    [Fact]
    public void Response_translation_from_the_documented_examples()
    {
        // ChatCompletions Example 5 (non-streaming), printed without the Response wrapper.
        var plain = HunyuanAdapter.TranslateResponse(JsonNode.Parse("""
            {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记",
             "Choices":[{"FinishReason":"stop","Message":{"Role":"assistant","Content":"你好！很高兴为您提供帮助。请问有什么问题我可以帮助您解决？"}}],
             "Created":1710902312,"Id":"e4657570-94a5-45f1-896c-a00ac3471d51","Usage":{"PromptTokens":3,"CompletionTokens":14,"TotalTokens":17}}
            """)!.AsObject(), "hunyuan");
        Assert.Equal("e4657570-94a5-45f1-896c-a00ac3471d51", plain["id"]!.GetValue<string>());
        Assert.Equal("你好！很高兴为您提供帮助。请问有什么问题我可以帮助您解决？", plain["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", plain["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(3, plain["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(14, plain["usage"]!["completion_tokens"]!.GetValue<long>());

        // Example 6 (hunyuan-functioncall, non-streaming): wrapped in Response, and the call has no Id.
        var call = HunyuanAdapter.TranslateResponse(JsonNode.Parse("""
            {"Response":{"RequestId":"e7f5ce41-87fd-4977-803c-54cded687cd9","Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记",
             "Choices":[{"Message":{"Role":"assistant","Content":"使用get_current_weather工具来获取北京和深圳的当前天气情况。",
               "ToolCalls":[{"Type":"function","Function":{"Name":"get_current_weather","Arguments":"{\"location\":[\"北京\",\"深圳\"],\"unit\":\"celsius\"}"}}]},
               "FinishReason":"tool_calls"}],
             "Created":1719638614,"Usage":{"PromptTokens":6,"CompletionTokens":46,"TotalTokens":52}}}
            """)!.AsObject(), "hunyuan");
        var choice = call["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        var toolCall = choice["message"]!["tool_calls"]![0]!;
        Assert.Equal("get_current_weather", toolCall["function"]!["name"]!.GetValue<string>());
        Assert.Equal("{\"location\":[\"北京\",\"深圳\"],\"unit\":\"celsius\"}", toolCall["function"]!["arguments"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(toolCall["id"]!.GetValue<string>())); // an id is made up so the client can answer the call
        Assert.Equal("e7f5ce41-87fd-4977-803c-54cded687cd9", call["id"]!.GetValue<string>());
        Assert.Equal(46, call["usage"]!["completion_tokens"]!.GetValue<long>());
    }

    [Fact]
    public void An_error_in_a_200_body_is_an_error()
    {
        // Example 3 of the ChatCompletions documentation, answered with HTTP 200.
        var error = Assert.Throws<VendorError>(() => HunyuanAdapter.TranslateResponse(JsonNode.Parse("""
            {"Response":{"RequestId":"188cc996-ab09-49a7-aa9f-1df88f11c6b4","Error":{"Code":"InvalidParameter","Message":"Temperature must be 2 or less"}}}
            """)!.AsObject(), "hunyuan"));
        Assert.Equal(VendorError.InvalidRequest, error.Code);
        Assert.Contains("Temperature must be 2 or less", error.Message);
    }

    [Fact]
    public async Task Stream_translation_of_the_documented_text_sequence()
    {
        // Example 4 (计算1+1): usage on every chunk, the last one with FinishReason "stop", no terminator.
        const string events = """
            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"FinishReason":"","Delta":{"Role":"assistant","Content":"1"}}],"Created":1700549760,"Id":"148b89ef-14e1-489f-8e70-b767e5b27d56","Usage":{"PromptTokens":4,"CompletionTokens":2,"TotalTokens":6}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"FinishReason":"","Delta":{"Role":"assistant","Content":"+"}}],"Created":1700549760,"Id":"148b89ef-14e1-489f-8e70-b767e5b27d56","Usage":{"PromptTokens":4,"CompletionTokens":3,"TotalTokens":7}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"FinishReason":"","Delta":{"Role":"assistant","Content":"1"}}],"Created":1700549760,"Id":"148b89ef-14e1-489f-8e70-b767e5b27d56","Usage":{"PromptTokens":4,"CompletionTokens":4,"TotalTokens":8}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"FinishReason":"","Delta":{"Role":"assistant","Content":"="}}],"Created":1700549760,"Id":"148b89ef-14e1-489f-8e70-b767e5b27d56","Usage":{"PromptTokens":4,"CompletionTokens":5,"TotalTokens":9}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"FinishReason":"","Delta":{"Role":"assistant","Content":"2"}}],"Created":1700549760,"Id":"148b89ef-14e1-489f-8e70-b767e5b27d56","Usage":{"PromptTokens":4,"CompletionTokens":5,"TotalTokens":9}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"FinishReason":"stop","Delta":{"Role":"assistant","Content":""}}],"Created":1700549760,"Id":"148b89ef-14e1-489f-8e70-b767e5b27d56","Usage":{"PromptTokens":4,"CompletionTokens":5,"TotalTokens":9}}

            """;
        var chunks = await TranslateAsync(events);
        Assert.Equal("1+1=2", string.Concat(chunks.Select(Content)));
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("stop", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(4, chunks[^1]["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(5, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<long>());
        Assert.All(chunks, c => Assert.Equal("148b89ef-14e1-489f-8e70-b767e5b27d56", c["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Stream_translation_of_the_documented_function_call_sequence()
    {
        // Example 7 (hunyuan-functioncall, streaming): fragments of a call share its Id; text may follow the call.
        const string events = """
            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"Delta":{"Role":"assistant","Content":"","ToolCalls":[{"Id":"call_cq154vk2c3m1v7ep3530","Type":"function","Function":{"Name":"get_current_weather","Arguments":""}}]},"FinishReason":""}],"Created":1719816830,"Id":"cd37cf66-089f-4ab2-8118-e18baa238462","Usage":{"PromptTokens":6,"CompletionTokens":0,"TotalTokens":6}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"Delta":{"Role":"assistant","Content":"","ToolCalls":[{"Id":"call_cq154vk2c3m1v7ep3530","Type":"function","Function":{"Name":"","Arguments":"{\"location\":\"北京\"}"}}]},"FinishReason":""}],"Created":1719816830,"Id":"cd37cf66-089f-4ab2-8118-e18baa238462","Usage":{"PromptTokens":6,"CompletionTokens":0,"TotalTokens":6}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"Delta":{"Role":"assistant","Content":"计划使用get_current_weather工具来获取北京和深圳的当前天气。"},"FinishReason":""}],"Created":1719816830,"Id":"cd37cf66-089f-4ab2-8118-e18baa238462","Usage":{"PromptTokens":6,"CompletionTokens":46,"TotalTokens":52}}

            data: {"Note":"以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记","Choices":[{"Delta":{"Role":"assistant","Content":""},"FinishReason":"tool_calls"}],"Created":1719816830,"Id":"cd37cf66-089f-4ab2-8118-e18baa238462","Usage":{"PromptTokens":6,"CompletionTokens":46,"TotalTokens":52}}

            """;
        var chunks = await TranslateAsync(events);
        var start = chunks[0]["choices"]![0]!["delta"]!["tool_calls"]![0]!;
        Assert.Equal(0, start["index"]!.GetValue<int>());
        Assert.Equal("call_cq154vk2c3m1v7ep3530", start["id"]!.GetValue<string>());
        Assert.Equal("get_current_weather", start["function"]!["name"]!.GetValue<string>());
        var more = chunks[1]["choices"]![0]!["delta"]!["tool_calls"]![0]!;
        Assert.Equal(0, more["index"]!.GetValue<int>());
        Assert.Null(more["id"]);
        Assert.Equal("{\"location\":\"北京\"}", more["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("计划使用get_current_weather工具来获取北京和深圳的当前天气。", Content(chunks[2]));
        Assert.Equal("tool_calls", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(46, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_stream_without_a_finish_reason_is_broken_and_sensitive_means_content_filter()
    {
        const string cut = """
            data: {"Choices":[{"FinishReason":"","Delta":{"Role":"assistant","Content":"1"}}],"Id":"x","Usage":{"PromptTokens":4,"CompletionTokens":1,"TotalTokens":5}}

            """;
        await Assert.ThrowsAsync<IOException>(() => TranslateAsync(cut));

        const string moderated = """
            data: {"Choices":[{"FinishReason":"","Delta":{"Role":"assistant","Content":"1"}}],"Id":"x","Usage":{"PromptTokens":4,"CompletionTokens":1,"TotalTokens":5}}

            data: {"Choices":[{"FinishReason":"sensitive","Delta":{"Role":"assistant","Content":""}}],"Id":"x","Usage":{"PromptTokens":4,"CompletionTokens":1,"TotalTokens":5}}

            """;
        var chunks = await TranslateAsync(moderated);
        Assert.Equal("content_filter", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());

        const string failing = """
            data: {"Choices":[],"Id":"x","ErrorMsg":{"Msg":"请求模型超时","Code":4001}}

            """;
        var error = await Assert.ThrowsAsync<VendorError>(() => TranslateAsync(failing));
        Assert.Equal(504, error.Status);
    }

    [Theory]
    [InlineData("AuthFailure.SignatureFailure", VendorError.AuthFailed)]
    [InlineData("AuthFailure.SignatureExpire", VendorError.AuthFailed)]
    [InlineData("AuthFailure.SecretIdNotFound", VendorError.AuthFailed)]
    [InlineData("UnauthorizedOperation", VendorError.AuthFailed)]
    [InlineData("RequestLimitExceeded", VendorError.RateLimited)]
    [InlineData("RequestLimitExceeded.UinLimitExceeded", VendorError.RateLimited)]
    [InlineData("LimitExceeded", VendorError.RateLimited)]
    [InlineData("FailedOperation.EngineServerLimitExceeded", VendorError.Overloaded)]
    [InlineData("FailedOperation.ResourcePackExhausted", VendorError.QuotaExhausted)]
    [InlineData("FailedOperation.FreeResourcePackExhausted", VendorError.QuotaExhausted)]
    [InlineData("FailedOperation.ServiceNotActivated", VendorError.QuotaExhausted)]
    [InlineData("FailedOperation.ServiceStopArrears", VendorError.QuotaExhausted)]
    [InlineData("ResourceInsufficient.ChargeResourceExhaust", VendorError.QuotaExhausted)]
    [InlineData("ResourceUnavailable.InArrears", VendorError.QuotaExhausted)]
    [InlineData("OperationDenied.TextIllegalDetected", VendorError.ContentFilter)]
    [InlineData("InternalError", VendorError.ServerError)]
    [InlineData("FailedOperation.EngineServerError", VendorError.ServerError)]
    [InlineData("FailedOperation.EngineRequestTimeout", VendorError.ServerError)]
    [InlineData("InvalidParameter", VendorError.InvalidRequest)]
    [InlineData("InvalidParameterValue", VendorError.InvalidRequest)]
    [InlineData("MissingParameter", VendorError.InvalidRequest)]
    [InlineData("UnknownParameter", VendorError.InvalidRequest)]
    [InlineData("InvalidParameterValue.Model", VendorError.ModelNotFound)]
    [InlineData("NoSuchVersion", VendorError.Unsupported)]
    public void Error_mapping_table(string code, string canonical)
    {
        var body = JsonNode.Parse($$$"""{"Response":{"Error":{"Code":"{{{code}}}","Message":"m"},"RequestId":"r"}}""");
        Assert.Equal(canonical, HunyuanAdapter.ErrorIn(body)!.Code);
        Assert.Null(HunyuanAdapter.ErrorIn(JsonNode.Parse("""{"Response":{"Choices":[],"RequestId":"r"}}""")));
    }

    [Fact]
    public void The_api_key_must_be_a_secret_id_and_key_pair()
    {
        Assert.Equal(("AKIDabc", "se:cret"), HunyuanAdapter.Credentials("AKIDabc:se:cret"));
        foreach (var bad in new[] { null, "", "only-a-key", ":key", "AKIDabc:" })
        {
            var error = Assert.Throws<VendorError>(() => HunyuanAdapter.Credentials(bad));
            Assert.Equal(VendorError.AuthFailed, error.Code);
            Assert.Contains("SecretId:SecretKey", error.Message);
            Assert.DoesNotContain("only-a-key", error.Message);
        }
    }

    [Fact]
    public async Task OpenAI_sdk_chat_and_stream_through_hunyuan_with_a_signature_the_fake_checks()
    {
        await AdapterChecks.ChatAndStreamAsync(Sdk, "hunyuan", 6);
        await AdapterChecks.RecordsMatchBillsAsync(Host, 2, "hunyuan", outcome: BillOutcome.Completed);

        // The vendor saw its own protocol: signed headers, the region passed through, PascalCase and no OpenAI fields.
        var sent = Host.Vendor.Requests.First(r => r.Path == "/");
        Assert.Equal("ChatCompletions", sent.Headers["X-TC-Action"]);
        Assert.Equal("2023-09-01", sent.Headers["X-TC-Version"]);
        Assert.Equal("ap-guangzhou", sent.Headers["X-TC-Region"]);
        Assert.Equal("application/json", sent.Headers["Content-Type"]);
        Assert.StartsWith("TC3-HMAC-SHA256 Credential=AKIDfake/", sent.Headers["Authorization"], StringComparison.Ordinal);
        Assert.Contains("SignedHeaders=content-type;host;x-tc-action", sent.Headers["Authorization"], StringComparison.Ordinal);
        Assert.DoesNotContain(Host.Vendor.ApiKey, sent.Headers["Authorization"], StringComparison.Ordinal);
        var body = JsonNode.Parse(sent.Body)!;
        Assert.Equal("system", body["Messages"]![0]!["Role"]!.GetValue<string>());
        Assert.Null(body["messages"]);
        Assert.Null(body["stream_options"]);
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_through_hunyuan_streamed_and_not()
    {
        var completion = await AdapterChecks.ToolCallsStreamedAndNotAsync(Sdk, "hunyuan-tools", argumentsVerbatim: true);

        // The results go back as tool messages after the assistant's ToolCalls, which the fake checks the order of.
        ChatCompletion next = await Sdk.GetChatClient("hunyuan").CompleteChatAsync(AdapterChecks.WithToolResults(completion), AdapterChecks.WeatherTool());
        Assert.NotEmpty(next.Content[0].Text);
        var sent = JsonNode.Parse(Host.Vendor.Requests.Last(r => r.Path == "/").Body)!;
        Assert.Equal(completion.ToolCalls[1].Id, sent["Messages"]![3]!["ToolCallId"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(sent["Tools"]![0]!["Function"]!["Parameters"]!.ToJsonString()).RootElement.ValueKind);

        await AdapterChecks.RecordsMatchBillsAsync(Host, 3, "hunyuan");
    }

    [Theory]
    [InlineData("hunyuan-quota", false, 502, "upstream_quota_exhausted")]
    [InlineData("hunyuan-quota", true, 502, "upstream_quota_exhausted")]
    [InlineData("hunyuan-filter", false, 400, "content_filter")]
    [InlineData("hunyuan-filter", true, 400, "content_filter")]
    [InlineData("hunyuan-429", false, 503, "upstream_rate_limited")]
    [InlineData("hunyuan-busy", true, 503, "upstream_overloaded")]
    [InlineData("hunyuan-badsig", false, 502, "upstream_auth_failed")]
    [InlineData("hunyuan-badsig", true, 502, "upstream_auth_failed")]
    [InlineData("hunyuan-badid", false, 502, "upstream_auth_failed")]
    [InlineData("hunyuan-onepart", false, 502, "upstream_auth_failed")]
    public async Task Errors_in_200_bodies_reach_the_client_as_the_contract_codes(string model, bool stream, int status, string code)
    {
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code, stream, secrets: ["not-the-secret-key", "only-a-secret-key"]);
        if (model != "hunyuan-onepart")
        {
            // The fake answered HTTP 200 with the error inside: Tencent's way.
            var bill = Assert.Single(Host.Vendor.Ledger.Bills);
            Assert.Equal(BillOutcome.Failed, bill.Outcome);
        }
        else
        {
            Assert.Empty(Host.Vendor.Requests); // refused before anything was sent
        }
    }

    [Fact]
    public async Task The_fake_refuses_a_wrong_signature_and_a_skewed_clock_in_a_200_body()
    {
        var key = "AKIDfake:" + Host.Vendor.ApiKey;
        var (status, body) = await DirectAsync(TimeProvider.System, key);
        Assert.Equal(200, status);
        Assert.Equal("chat.completion", body["object"]!.GetValue<string>());

        // Four minutes off is within Tencent's five; ten is not.
        (status, _) = await DirectAsync(new ShiftedClock(TimeSpan.FromMinutes(-4)), key);
        Assert.Equal(200, status);
        (status, body) = await DirectAsync(new ShiftedClock(TimeSpan.FromMinutes(10)), key);
        Assert.Equal(401, status);
        Assert.Contains("AuthFailure.SignatureExpire", body["error"]!["message"]!.GetValue<string>());

        (status, body) = await DirectAsync(TimeProvider.System, "AKIDfake:" + Host.Vendor.ApiKey + "x");
        Assert.Equal(401, status);
        Assert.Contains("AuthFailure.SignatureFailure", body["error"]!["message"]!.GetValue<string>());

        // Every refusal came back as HTTP 200 with the error in the body.
        using var http = new HttpClient();
        using var raw = await http.PostAsync(Host.Vendor.Origin, new StringContent("{}", Encoding.UTF8, "application/json")
        {
            Headers = { { "X-TC-Action", "ChatCompletions" } },
        });
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal("AuthFailure.InvalidAuthorization", JsonNode.Parse(await raw.Content.ReadAsStringAsync())!["Response"]!["Error"]!["Code"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_error_chunk_mid_stream_ends_with_a_clean_error_and_a_record_of_what_was_streamed() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "hunyuan-midstream", 3);

    [Fact]
    public async Task Embeddings_through_hunyuan_in_order_and_in_either_encoding()
    {
        string[] inputs = ["first", "第二", "third one"];
        using var response = await Http.PostAsJsonAsync("v1/embeddings", new { model = "hunyuan-embed", input = inputs });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var data = json["data"]!.AsArray();
        Assert.Equal(3, data.Count);
        Assert.All(data, d => Assert.Equal(HunyuanAdapter.EmbeddingDimensions, d!["embedding"]!.AsArray().Count));
        Assert.Equal([0, 1, 2], data.Select(d => d!["index"]!.GetValue<int>()));

        // The official SDK asks for base64: the same vectors, encoded.
        var sdk = await Sdk.GetEmbeddingClient("hunyuan-embed").GenerateEmbeddingsAsync(inputs);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(data[i]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()), sdk.Value[i].ToFloats().ToArray());
        }

        Assert.Equal(2, (await AdapterChecks.RecordsMatchBillsAsync(Host, 2, "hunyuan")).Count);
        Assert.All(Host.Vendor.Ledger.Bills, b => Assert.Equal("embeddings", b.Endpoint));
        var sent = JsonNode.Parse(Host.Vendor.Requests.First(r => r.Path == "/").Body)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"InputList":["first","第二","third one"]}"""), sent), sent.ToJsonString());
    }

    private async Task<(int Status, JsonNode Body)> DirectAsync(TimeProvider clock, string apiKey)
    {
        var provider = new Provider("direct", ProviderKind.All["hunyuan"], Host.Vendor.Origin, apiKey, new Dictionary<string, string>(), CatalogSource.Config);
        var deployment = new Deployment(provider, "hunyuan-fake+chunks=2", new Price(Currency.CNY, 1, 1, null));
        var request = GatewayRequest.Parse(GatewayEndpoint.ChatCompletions,
            new ReadOnlySequence<byte>("""{"model":"direct","messages":[{"role":"user","content":"hi"}]}"""u8.ToArray()), out _);
        using var http = new HttpClient();
        using var response = await new HunyuanAdapter(clock).SendAsync(new AdapterCall(deployment, request, "req_direct", http, 1 << 20, TimeSpan.FromSeconds(10)), CancellationToken.None);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }

    private static async Task<List<JsonObject>> TranslateAsync(string events)
    {
        var chunks = new List<JsonObject>();
        await foreach (var chunk in HunyuanAdapter.TranslateStream(new MemoryStream(Encoding.UTF8.GetBytes(events)), "hunyuan", CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        return chunks;
    }

    private static string? Content(JsonObject chunk) => chunk["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"]?.GetValue<string>();
}
