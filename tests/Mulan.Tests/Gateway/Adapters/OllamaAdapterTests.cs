using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Ollama;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>OpenAI clients served by Ollama's native API: translation both ways, NDJSON streams, tools, embeddings, errors.</summary>
public sealed class OllamaAdapterTests : AdapterTestHost
{
    protected override string Catalog => """
        {
          "providers": [ { "name": "ollama", "kind": "ollama", "baseUrl": "{ORIGIN}" },
                         { "name": "ollama-proxied", "kind": "ollama", "baseUrl": "{ORIGIN}", "apiKey": "env:FAKE_VENDOR_KEY" },
                         { "name": "ollama-badkey", "kind": "ollama", "baseUrl": "{ORIGIN}", "apiKey": "wrong" } ],
          "models": [
            { "name": "llama", "deployments": [ { "provider": "ollama", "model": "llama-fake+chunks=6", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-proxied", "deployments": [ { "provider": "ollama-proxied", "model": "llama-fake+chunks=4", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-tools", "deployments": [ { "provider": "ollama", "model": "llama-fake+tools", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-quota", "deployments": [ { "provider": "ollama-proxied", "model": "llama-fake+quota", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-filter", "deployments": [ { "provider": "ollama", "model": "llama-fake+filter", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-busy", "deployments": [ { "provider": "ollama", "model": "llama-fake+fail=503", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-missing", "deployments": [ { "provider": "ollama", "model": "llama-fake+fail=404", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-badkey", "deployments": [ { "provider": "ollama-badkey", "model": "llama-fake", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-reset", "deployments": [ { "provider": "ollama", "model": "llama-fake+chunks=6+reset=3", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-midstream", "deployments": [ { "provider": "ollama", "model": "llama-fake+chunks=6+errorevent=3", "price": { "currency": "USD", "input": 1, "output": 2 } } ] },
            { "name": "llama-embed", "deployments": [ { "provider": "ollama", "model": "embed-fake", "price": { "currency": "USD", "input": 0.1, "output": 0 } } ] }
          ]
        }
        """;

    [Fact]
    public void Request_translation_keeps_roles_inlines_images_and_names_tool_results()
    {
        var openAI = JsonNode.Parse("""
            {"model":"llama","max_tokens":100,"temperature":0.2,"top_p":0.9,"seed":42,"stop":"END","response_format":{"type":"json_object"},
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
               {"role":"assistant","content":null,"tool_calls":[
                 {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18C"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}
            """)!.AsObject();
        var before = openAI.ToJsonString();
        var body = OllamaAdapter.TranslateRequest(openAI, "llama3.2", stream: false);
        var expected = JsonNode.Parse("""
            {"model":"llama3.2",
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":"What is in this picture?","images":["iVBORw0KGgo="]},
               {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
               {"role":"tool","content":"18C","tool_name":"get_weather"}],
             "stream":false,
             "options":{"temperature":0.2,"top_p":0.9,"num_predict":100,"seed":42,"stop":["END"]},
             "format":"json",
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body), body.ToJsonString());
        Assert.Equal(before, openAI.ToJsonString());
    }

    [Fact]
    public void Stream_is_always_written_and_a_json_schema_becomes_the_format()
    {
        var openAI = JsonNode.Parse("""
            {"model":"llama","messages":[{"role":"user","content":"hi"}],"tool_choice":"none",
             "tools":[{"type":"function","function":{"name":"f"}}],
             "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}
            """)!.AsObject();
        var streamed = OllamaAdapter.TranslateRequest(openAI, "m", stream: true);
        Assert.True(streamed["stream"]!.GetValue<bool>());
        Assert.True(JsonNode.DeepEquals(openAI["response_format"]!["json_schema"]!["schema"], streamed["format"]));
        Assert.Null(streamed["tools"]); // tool_choice none: Ollama cannot be told, so the tools are not offered
        Assert.Null(streamed["options"]);
        Assert.False(OllamaAdapter.TranslateRequest(openAI, "m", stream: false)["stream"]!.GetValue<bool>());
    }

    [Fact]
    public void Response_translation_from_the_documented_examples()
    {
        // The non-streaming chat example of Ollama's API documentation (no done_reason in that version).
        var plain = JsonNode.Parse("""
            {"model":"llama3.2","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":"Hello! How are you today?"},
             "done":true,"total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":26,"prompt_eval_duration":383809000,
             "eval_count":298,"eval_duration":4799921000}
            """)!.AsObject();
        var completion = OllamaAdapter.TranslateResponse(plain, "llama");
        Assert.StartsWith("chatcmpl-", completion["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Hello! How are you today?", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", completion["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(26, completion["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(298, completion["usage"]!["completion_tokens"]!.GetValue<long>());

        // The tool-calling example: the call arrives whole, its arguments an object.
        var tools = JsonNode.Parse("""
            {"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z",
             "message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Paris, FR"}}}]},
             "done_reason":"stop","done":true,"total_duration":885095291,"load_duration":3753500,"prompt_eval_count":122,
             "prompt_eval_duration":328493000,"eval_count":33,"eval_duration":552222000}
            """)!.AsObject();
        var called = OllamaAdapter.TranslateResponse(tools, "llama");
        var choice = called["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Null(choice["message"]!["content"]); // OpenAI's shape for a message that only calls tools
        var call = choice["message"]!["tool_calls"]![0]!;
        Assert.Equal("call_0", call["id"]!.GetValue<string>());
        Assert.Equal("get_current_weather", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"format":"celsius","location":"Paris, FR"}""", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal(122, called["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(33, called["usage"]!["completion_tokens"]!.GetValue<long>());

        var cut = JsonNode.Parse("""{"model":"m","message":{"role":"assistant","content":"a b"},"done":true,"done_reason":"length","prompt_eval_count":3,"eval_count":2}""")!.AsObject();
        Assert.Equal("length", OllamaAdapter.TranslateResponse(cut, "llama")["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    private static async Task<List<JsonObject>> TranslateAsync(string lines)
    {
        var chunks = new List<JsonObject>();
        await foreach (var chunk in OllamaAdapter.TranslateStream(new MemoryStream(Encoding.UTF8.GetBytes(lines)), "llama", CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        return chunks;
    }

    [Fact]
    public async Task Stream_translation_of_the_documented_ndjson_sequence()
    {
        // Ollama's streaming example: partial message.content per line, then a whole tool call, then the done line with the counts.
        const string lines = """
            {"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}
            {"model":"llama3.2","created_at":"2023-08-04T08:52:19.405406455-07:00","message":{"role":"assistant","content":" sky"},"done":false}
            {"model":"llama3.2","created_at":"2023-08-04T08:52:19.425406455-07:00","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Paris, FR"}}}]},"done":false}
            {"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}

            """;
        var chunks = await TranslateAsync(lines);
        Assert.Equal(5, chunks.Count);
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("The", chunks[0]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        Assert.Equal(" sky", chunks[1]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        var call = chunks[2]["choices"]![0]!["delta"]!["tool_calls"]![0]!;
        Assert.Equal("call_0", call["id"]!.GetValue<string>());
        Assert.Equal("get_current_weather", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"format":"celsius","location":"Paris, FR"}""", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("tool_calls", chunks[3]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(26, chunks[4]["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(282, chunks[4]["usage"]!["completion_tokens"]!.GetValue<long>());
        Assert.Single(chunks.Select(c => c["id"]!.GetValue<string>()).Distinct());
    }

    [Fact]
    public async Task A_stream_without_its_done_line_is_broken_and_an_error_line_is_a_vendor_error()
    {
        await Assert.ThrowsAsync<IOException>(() => TranslateAsync("""{"model":"m","message":{"role":"assistant","content":"The"},"done":false}""" + "\n"));
        var error = await Assert.ThrowsAsync<VendorError>(() => TranslateAsync(
            """{"model":"m","message":{"role":"assistant","content":"The"},"done":false}""" + "\n" + """{"error":"an error was encountered while running the model: unexpected EOF"}""" + "\n"));
        Assert.Equal(VendorError.ServerError, error.Code);
        Assert.Contains("unexpected EOF", error.Message);
    }

    [Fact]
    public async Task The_line_reader_takes_crlf_and_a_last_line_without_newline_and_refuses_an_endless_line()
    {
        var lines = new List<string>();
        await foreach (var line in NdjsonReader.ReadAsync(new MemoryStream("{\"a\":1}\r\n\r\n{\"b\":2}"u8.ToArray()), CancellationToken.None))
        {
            lines.Add(line);
        }
        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], lines);
        await Assert.ThrowsAsync<IOException>(async () =>
        {
            await foreach (var _ in NdjsonReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(new string('x', 70_000) + "\n")), CancellationToken.None, maxLineBytes: 64 * 1024))
            {
            }
        });
    }

    [Theory]
    [InlineData(404, """{"error":"model \"llama3\" not found, try pulling it first"}""", VendorError.ModelNotFound)]
    [InlineData(400, """{"error":"invalid role: robot, role must be one of [system, user, assistant, tool]"}""", VendorError.InvalidRequest)]
    [InlineData(500, """{"error":"llama runner process has terminated: exit status 2"}""", VendorError.ServerError)]
    [InlineData(503, """{"error":"server busy, please try again.  maximum pending requests exceeded"}""", VendorError.Overloaded)]
    [InlineData(401, """{"error":"unauthorized"}""", VendorError.AuthFailed)]
    [InlineData(429, """{"error":"you (someone) have reached your weekly usage limit, upgrade for higher limits: https://ollama.com/upgrade"}""", VendorError.QuotaExhausted)]
    [InlineData(429, """{"error":"too many concurrent requests"}""", VendorError.RateLimited)]
    [InlineData(200, """{"error":"an error was encountered while running the model: unexpected EOF"}""", VendorError.ServerError)]
    [InlineData(502, "<html>bad gateway</html>", VendorError.ServerError)]
    public void Error_mapping_table(int status, string body, string code) =>
        Assert.Equal(code, OllamaAdapter.MapError(status, AdapterChecks.JsonOrNull(body), null).Code);

    [Fact]
    public async Task OpenAI_sdk_chat_and_stream_through_ollama()
    {
        await AdapterChecks.ChatAndStreamAsync(Sdk, "llama", 6);
        await AdapterChecks.RecordsMatchBillsAsync(Host, 2, "ollama");
        // Ollama streams by default, so the non-streaming call must say stream:false; a local Ollama gets no key.
        var sent = Host.Vendor.Requests.Where(r => r.Path == "/api/chat").ToList();
        Assert.Equal([false, true], sent.Select(r => JsonNode.Parse(r.Body)!["stream"]!.GetValue<bool>()));
        Assert.All(sent, r => Assert.False(r.Headers.ContainsKey("Authorization")));
        Assert.Equal("system", JsonNode.Parse(sent[0].Body)!["messages"]![0]!["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_proxied_ollama_gets_the_key_as_a_bearer_token()
    {
        ChatCompletion completion = await Sdk.GetChatClient("llama-proxied").CompleteChatAsync([new UserChatMessage("Hello")]);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        var sent = Assert.Single(Host.Vendor.Requests, r => r.Path == "/api/chat");
        Assert.Equal("Bearer " + Host.Vendor.ApiKey, sent.Headers["Authorization"]);
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_through_ollama_streamed_and_not()
    {
        var completion = await AdapterChecks.ToolCallsStreamedAndNotAsync(Sdk, "llama-tools");

        // The results go back as role "tool" messages named after the functions, arguments as objects.
        ChatCompletion next = await Sdk.GetChatClient("llama").CompleteChatAsync(AdapterChecks.WithToolResults(completion));
        Assert.NotEmpty(next.Content[0].Text);
        var sent = JsonNode.Parse(Host.Vendor.Requests.Last(r => r.Path == "/api/chat").Body)!["messages"]!.AsArray();
        Assert.Equal("Paris", sent[1]!["tool_calls"]![0]!["function"]!["arguments"]!["city"]!.GetValue<string>());
        Assert.Equal(["get_weather", "get_time"], sent.Skip(2).Select(m => m!["tool_name"]!.GetValue<string>()));

        await AdapterChecks.RecordsMatchBillsAsync(Host, 3, "ollama");
    }

    [Fact]
    public async Task OpenAI_sdk_embeddings_through_ollama_use_prompt_eval_count()
    {
        OpenAIEmbeddingCollection embeddings = await Sdk.GetEmbeddingClient("llama-embed").GenerateEmbeddingsAsync(["first text", "second"]);
        Assert.Equal(2, embeddings.Count);
        Assert.Equal(16, embeddings[0].ToFloats().Length);
        Assert.NotEqual(embeddings[0].ToFloats().ToArray(), embeddings[1].ToFloats().ToArray());
        var sent = JsonNode.Parse(Host.Vendor.Requests.Single(r => r.Path == "/api/embed").Body)!;
        Assert.Equal("embed-fake", sent["model"]!.GetValue<string>());
        Assert.Equal(2, sent["input"]!.AsArray().Count);

        Assert.Single(await AdapterChecks.RecordsMatchBillsAsync(Host, 1, "ollama"));
        Assert.True(Assert.Single(Host.Vendor.Ledger.Bills).PromptTokens > 0);
    }

    [Theory]
    [InlineData("llama-quota", 502, "upstream_quota_exhausted")]
    [InlineData("llama-busy", 503, "upstream_overloaded")]
    [InlineData("llama-badkey", 502, "upstream_auth_failed")]
    [InlineData("llama-missing", 404, "model_not_found")]
    public async Task Vendor_errors_reach_the_client_as_the_contract_codes(string model, int status, string code) =>
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code);

    [Fact]
    public async Task Ollama_has_no_content_filter_so_none_is_reported()
    {
        // Ollama runs no moderation; a refusal it answers as a plain 400 stays a rejected request, not content_filter.
        using var response = await Http.PostAsJsonAsync("v1/chat/completions", new { model = "llama-filter", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.NotEqual("content_filter", error["code"]?.GetValue<string>());
        Assert.Contains("request refused", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_stream_cut_before_its_done_line_is_an_upstream_error_with_a_clean_error_event() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "llama-reset", 3, "upstream_stream_error", BillOutcome.Reset);

    [Fact]
    public async Task An_error_line_mid_stream_ends_with_a_clean_error_and_a_record_of_what_was_streamed()
    {
        var error = await AdapterChecks.BrokenStreamAsync(Host, Http, "llama-midstream", 3, VendorError.ServerError);
        Assert.Contains("unexpected EOF", error["message"]!.GetValue<string>());
    }
}
