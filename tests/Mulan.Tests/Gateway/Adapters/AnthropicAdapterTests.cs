using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Anthropic;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>OpenAI clients served by an Anthropic Messages deployment: translation both ways, streams, tools, errors.</summary>
public sealed class AnthropicAdapterTests : AdapterTestHost
{
    protected override string Catalog => """
        {
          "providers": [ { "name": "claude", "kind": "anthropic", "baseUrl": "{VENDOR}", "apiKey": "env:FAKE_VENDOR_KEY" },
                         { "name": "claude-badkey", "kind": "anthropic", "baseUrl": "{VENDOR}", "apiKey": "wrong" } ],
          "models": [
            { "name": "claude", "deployments": [ { "provider": "claude", "model": "claude-fake+chunks=6", "price": { "currency": "USD", "input": 2, "output": 10 } } ] },
            { "name": "claude-tools", "deployments": [ { "provider": "claude", "model": "claude-fake+tools", "price": { "currency": "USD", "input": 2, "output": 10 } } ] },
            { "name": "claude-quota", "deployments": [ { "provider": "claude", "model": "claude-fake+quota", "price": { "currency": "USD", "input": 2, "output": 10 } } ] },
            { "name": "claude-filter", "deployments": [ { "provider": "claude", "model": "claude-fake+filter", "price": { "currency": "USD", "input": 2, "output": 10 } } ] },
            { "name": "claude-busy", "deployments": [ { "provider": "claude", "model": "claude-fake+fail=529", "price": { "currency": "USD", "input": 2, "output": 10 } } ] },
            { "name": "claude-badkey", "deployments": [ { "provider": "claude-badkey", "model": "claude-fake", "price": { "currency": "USD", "input": 2, "output": 10 } } ] },
            { "name": "claude-midstream", "deployments": [ { "provider": "claude", "model": "claude-fake+chunks=6+errorevent=3", "price": { "currency": "USD", "input": 2, "output": 10 } } ] }
          ]
        }
        """;

    [Fact]
    public void Request_translation_moves_system_merges_tool_results_and_maps_tools()
    {
        var openAI = JsonNode.Parse("""
            {"model":"claude","max_tokens":100,"temperature":1.5,"stop":"END","user":"u1",
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
               {"role":"assistant","content":null,"tool_calls":[
                 {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                 {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18C"},
               {"role":"tool","tool_call_id":"call_2","content":"noon"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":"required"}
            """)!.AsObject();
        var body = AnthropicAdapter.TranslateRequest(openAI, "claude-x", stream: true);
        var expected = JsonNode.Parse("""
            {"model":"claude-x","max_tokens":100,
             "messages":[
               {"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
               {"role":"assistant","content":[
                 {"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},
                 {"type":"tool_use","id":"call_2","name":"get_time","input":{}}]},
               {"role":"user","content":[
                 {"type":"tool_result","tool_use_id":"call_1","content":"18C"},
                 {"type":"tool_result","tool_use_id":"call_2","content":"noon"}]}],
             "system":"Be brief.","temperature":1,"stop_sequences":["END"],
             "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}},"description":"Weather"}],
             "tool_choice":{"type":"any"},"metadata":{"user_id":"u1"},"stream":true}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body), body.ToJsonString());
    }

    [Fact]
    public void Response_translation_from_the_documented_example()
    {
        // The non-streaming example of Anthropic's Messages documentation, with a tool_use block and cache reads.
        var message = JsonNode.Parse("""
            {"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"claude-sonnet-4-5",
             "content":[{"type":"text","text":"I'll check."},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA"}}],
             "stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":472,"output_tokens":89,"cache_read_input_tokens":100,"cache_creation_input_tokens":0}}
            """)!.AsObject();
        var completion = AnthropicAdapter.TranslateResponse(message, "claude");
        Assert.Equal("msg_01Aq9w938a90dw8q", completion["id"]!.GetValue<string>());
        var choice = completion["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal("I'll check.", choice["message"]!["content"]!.GetValue<string>());
        var call = choice["message"]!["tool_calls"]![0]!;
        Assert.Equal("toolu_01A09q90qw90lq917835lq9", call["id"]!.GetValue<string>());
        Assert.Equal("""{"location":"San Francisco, CA"}""", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal(572, completion["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(100, completion["usage"]!["prompt_tokens_details"]!["cached_tokens"]!.GetValue<long>());
        Assert.Equal(89, completion["usage"]!["completion_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task Stream_translation_of_the_documented_event_sequence()
    {
        // The streaming example of Anthropic's documentation: a text block then a tool_use block, ping and all.
        const string events = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: ping
            data: {"type": "ping"}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: content_block_start
            data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San Francisco, CA\"}"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":1}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

            event: message_stop
            data: {"type":"message_stop"}

            """;
        var chunks = new List<JsonObject>();
        await foreach (var chunk in AnthropicAdapter.TranslateStream(new MemoryStream(Encoding.UTF8.GetBytes(events)), "claude", CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("Okay", chunks[0]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        var start = chunks[1]["choices"]![0]!["delta"]!["tool_calls"]![0]!;
        Assert.Equal(0, start["index"]!.GetValue<int>());
        Assert.Equal("toolu_01T1x1fJ34qAmk2tNTrN7Up6", start["id"]!.GetValue<string>());
        var arguments = string.Concat(chunks.Skip(2).Select(c => c["choices"]?.AsArray().FirstOrDefault()?["delta"]?["tool_calls"]?[0]?["function"]?["arguments"]?.GetValue<string>()));
        Assert.Equal("""{"location": "San Francisco, CA"}""", arguments);
        Assert.Equal("tool_calls", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(472, chunks[^1]["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(89, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<long>());
        Assert.All(chunks, c => Assert.Equal("msg_014p7gG3wDgGV9EUtLvnow3U", c["id"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(429, """{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}""", VendorError.RateLimited)]
    [InlineData(529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", VendorError.Overloaded)]
    [InlineData(500, """{"type":"error","error":{"type":"api_error","message":"boom"}}""", VendorError.ServerError)]
    [InlineData(401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""", VendorError.AuthFailed)]
    [InlineData(403, """{"type":"error","error":{"type":"permission_error","message":"no"}}""", VendorError.AuthFailed)]
    [InlineData(400, """{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}""", VendorError.QuotaExhausted)]
    [InlineData(402, """{"type":"error","error":{"type":"billing_error","message":"pay"}}""", VendorError.QuotaExhausted)]
    [InlineData(400, """{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}""", VendorError.InvalidRequest)]
    [InlineData(404, """{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}""", VendorError.ModelNotFound)]
    [InlineData(400, """{"type":"error","error":{"type":"invalid_request_error","message":"Output blocked by content filtering policy"}}""", VendorError.ContentFilter)]
    [InlineData(502, "<html>bad gateway</html>", VendorError.ServerError)]
    public void Error_mapping_table(int status, string body, string code) =>
        Assert.Equal(code, AnthropicAdapter.MapError(status, AdapterChecks.JsonOrNull(body), null).Code);

    [Fact]
    public async Task OpenAI_sdk_chat_and_stream_through_anthropic()
    {
        await AdapterChecks.ChatAndStreamAsync(Sdk, "claude", 6);
        await AdapterChecks.RecordsMatchBillsAsync(Host, 2, "claude");
        // The vendor saw its own protocol: system on top, no OpenAI fields.
        var sent = JsonNode.Parse(Host.Vendor.Requests.First(r => r.Path == "/v1/messages").Body)!;
        Assert.Equal("Be brief.", sent["system"]!.GetValue<string>());
        Assert.Equal(AnthropicAdapter.DefaultMaxTokens, sent["max_tokens"]!.GetValue<int>());
        Assert.Null(sent["stream_options"]);
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_through_anthropic_streamed_and_not()
    {
        var completion = await AdapterChecks.ToolCallsStreamedAndNotAsync(Sdk, "claude-tools");

        // The tool results go back as tool_result blocks and the conversation continues.
        var history = AdapterChecks.WithToolResults(completion);
        ChatCompletion next = await Sdk.GetChatClient("claude").CompleteChatAsync(history);
        Assert.NotEmpty(next.Content[0].Text);
        var sent = JsonNode.Parse(Host.Vendor.Requests.Last(r => r.Path == "/v1/messages").Body)!;
        Assert.Equal("tool_result", sent["messages"]![2]!["content"]![1]!["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("claude-quota", 502, "upstream_quota_exhausted")]
    [InlineData("claude-filter", 400, "content_filter")]
    [InlineData("claude-busy", 503, "upstream_overloaded")]
    [InlineData("claude-badkey", 502, "upstream_auth_failed")]
    public async Task Vendor_errors_reach_the_client_as_the_contract_codes(string model, int status, string code) =>
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code);

    [Fact]
    public async Task An_error_event_mid_stream_ends_with_a_clean_error_and_a_record_of_what_was_streamed() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "claude-midstream", 3); // three words reached the client

    [Fact]
    public async Task Embeddings_are_refused_as_not_offered()
    {
        using var response = await Http.PostAsJsonAsync("v1/embeddings", new { model = "claude", input = "hi" });
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("does not offer embeddings", await response.Content.ReadAsStringAsync());
    }
}
