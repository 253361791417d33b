using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.Gemini;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>OpenAI clients served by a Gemini deployment: translation both ways, SSE without terminator, tools, embeddings, errors.</summary>
public sealed class GeminiAdapterTests : AdapterTestHost
{
    protected override string Catalog => """
        {
          "providers": [ { "name": "gemini", "kind": "gemini", "baseUrl": "{ORIGIN}/v1beta", "apiKey": "env:FAKE_VENDOR_KEY" },
                         { "name": "gemini-badkey", "kind": "gemini", "baseUrl": "{ORIGIN}/v1beta", "apiKey": "AIza-wrong" } ],
          "models": [
            { "name": "gemini", "deployments": [ { "provider": "gemini", "model": "gemini-fake+chunks=6", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-tools", "deployments": [ { "provider": "gemini", "model": "gemini-fake+tools", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-nousage", "deployments": [ { "provider": "gemini", "model": "gemini-fake+chunks=5+nousage", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-quota", "deployments": [ { "provider": "gemini", "model": "gemini-fake+quota", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-filter", "deployments": [ { "provider": "gemini", "model": "gemini-fake+filter", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-ratelimited", "deployments": [ { "provider": "gemini", "model": "gemini-fake+fail=429", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-busy", "deployments": [ { "provider": "gemini", "model": "gemini-fake+fail=503", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-badkey", "deployments": [ { "provider": "gemini-badkey", "model": "gemini-fake", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-reset", "deployments": [ { "provider": "gemini", "model": "gemini-fake+chunks=6+reset=3", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-midstream", "deployments": [ { "provider": "gemini", "model": "gemini-fake+chunks=6+errorevent=3", "price": { "currency": "USD", "input": 0.3, "output": 2.5 } } ] },
            { "name": "gemini-embed", "deployments": [ { "provider": "gemini", "model": "embedding-fake", "price": { "currency": "USD", "input": 0.15, "output": 0 } } ] }
          ]
        }
        """;

    [Fact]
    public void Request_translation_moves_system_names_function_responses_and_maps_tools()
    {
        var openAI = JsonNode.Parse("""
            {"model":"gemini","max_tokens":100,"temperature":0.5,"top_p":0.9,"stop":["END"],"seed":7,"response_format":{"type":"json_object"},
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"developer","content":"Answer in French."},
               {"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
               {"role":"assistant","content":null,"tool_calls":[
                 {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                 {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":18}"},
               {"role":"tool","tool_call_id":"call_2","content":"noon"},
               {"role":"user","content":"Thanks"}],
             "tools":[
               {"type":"function","function":{"name":"get_weather","description":"Weather","strict":true,
                 "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}},
               {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}}}
            """)!.AsObject();
        var before = openAI.ToJsonString();
        var body = GeminiAdapter.TranslateRequest(openAI);
        var expected = JsonNode.Parse("""
            {"contents":[
               {"role":"user","parts":[{"text":"Weather?"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},
               {"role":"model","parts":[
                 {"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},
                 {"functionCall":{"name":"get_time","args":{}}}]},
               {"role":"user","parts":[
                 {"functionResponse":{"name":"get_weather","response":{"temp":18}}},
                 {"functionResponse":{"name":"get_time","response":{"output":"noon"}}},
                 {"text":"Thanks"}]}],
             "systemInstruction":{"parts":[{"text":"Be brief.\n\nAnswer in French."}]},
             "generationConfig":{"temperature":0.5,"topP":0.9,"maxOutputTokens":100,"stopSequences":["END"],"seed":7,"candidateCount":1,"responseMimeType":"application/json"},
             "tools":[{"functionDeclarations":[
               {"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
               {"name":"get_time"}]}],
             "toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body), body.ToJsonString());
        Assert.Equal(before, openAI.ToJsonString());
    }

    [Theory]
    [InlineData("\"auto\"", """{"mode":"AUTO"}""")]
    [InlineData("\"required\"", """{"mode":"ANY"}""")]
    [InlineData("\"none\"", """{"mode":"NONE"}""")]
    public void Tool_choice_becomes_a_function_calling_mode(string choice, string config)
    {
        var openAI = JsonNode.Parse("""
            {"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":CHOICE,
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}]}
            """.Replace("CHOICE", choice, StringComparison.Ordinal))!.AsObject();
        var body = GeminiAdapter.TranslateRequest(openAI);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(config), body["toolConfig"]!["functionCallingConfig"]), body.ToJsonString());
    }

    [Fact]
    public void Untranslatable_requests_are_refused_before_anything_is_sent()
    {
        var orphan = JsonNode.Parse("""{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"call_9","content":"x"}]}""")!.AsObject();
        Assert.Equal(VendorError.InvalidRequest, Assert.Throws<VendorError>(() => GeminiAdapter.TranslateRequest(orphan)).Code);
        var remoteImage = JsonNode.Parse("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}""")!.AsObject();
        Assert.Equal(VendorError.InvalidRequest, Assert.Throws<VendorError>(() => GeminiAdapter.TranslateRequest(remoteImage)).Code);
    }

    [Fact]
    public void Response_translation_from_the_documented_function_calling_example()
    {
        // The function-calling answer of Gemini's documentation, with the usage block of a thinking model.
        var response = JsonNode.Parse("""
            {"candidates":[{"content":{"parts":[
                {"text":"Let me look that up."},
                {"functionCall":{"name":"find_theaters","args":{"movie":"Barbie","location":"Mountain View, CA"}}}],"role":"model"},
              "finishReason":"STOP","index":0,
              "safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"NEGLIGIBLE"}]}],
             "usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":25,"totalTokenCount":245,"cachedContentTokenCount":64,"thoughtsTokenCount":100,
               "promptTokensDetails":[{"modality":"TEXT","tokenCount":120}]},
             "modelVersion":"gemini-2.5-flash","responseId":"mFmGaJ2ZBv-WqtsP_Ym3oA8"}
            """)!.AsObject();
        var completion = GeminiAdapter.TranslateResponse(response, "gemini");
        Assert.Equal("mFmGaJ2ZBv-WqtsP_Ym3oA8", completion["id"]!.GetValue<string>());
        var choice = completion["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal("Let me look that up.", choice["message"]!["content"]!.GetValue<string>());
        var call = choice["message"]!["tool_calls"]![0]!;
        Assert.Equal("call_0", call["id"]!.GetValue<string>());
        Assert.Equal("find_theaters", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"movie":"Barbie","location":"Mountain View, CA"}""", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal(120, completion["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(125, completion["usage"]!["completion_tokens"]!.GetValue<long>()); // thoughts are output
        Assert.Equal(64, completion["usage"]!["prompt_tokens_details"]!["cached_tokens"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("STOP", "stop")]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("RECITATION", "content_filter")]
    [InlineData("BLOCKLIST", "content_filter")]
    [InlineData("PROHIBITED_CONTENT", "content_filter")]
    [InlineData("SPII", "content_filter")]
    [InlineData("OTHER", "stop")]
    public void Finish_reasons(string gemini, string openAI)
    {
        var response = JsonNode.Parse($$$"""
            {"candidates":[{"content":{"parts":[{"text":"Once upon"}],"role":"model"},"finishReason":"{{{gemini}}}","index":0}],
             "usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"totalTokenCount":6}}
            """)!.AsObject();
        Assert.Equal(openAI, GeminiAdapter.TranslateResponse(response, "gemini")["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public void A_blocked_prompt_in_an_http_200_body_is_a_content_filter_error()
    {
        var blocked = JsonNode.Parse("""
            {"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[
               {"category":"HARM_CATEGORY_SEXUALLY_EXPLICIT","probability":"NEGLIGIBLE"},
               {"category":"HARM_CATEGORY_HATE_SPEECH","probability":"HIGH"}]},
             "usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.0-flash"}
            """)!.AsObject();
        var error = Assert.Throws<VendorError>(() => GeminiAdapter.TranslateResponse(blocked, "gemini"));
        Assert.Equal(VendorError.ContentFilter, error.Code);
        Assert.Contains("SAFETY", error.Message);
    }

    [Fact]
    public void A_response_without_usage_metadata_leaves_usage_to_the_gateway()
    {
        var response = JsonNode.Parse("""{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}]}""")!.AsObject();
        Assert.Null(GeminiAdapter.TranslateResponse(response, "gemini")["usage"]);
    }

    private static async Task<List<JsonObject>> TranslateAsync(string events)
    {
        var chunks = new List<JsonObject>();
        await foreach (var chunk in GeminiAdapter.TranslateStream(new MemoryStream(Encoding.UTF8.GetBytes(events)), "gemini", CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        return chunks;
    }

    [Fact]
    public async Task Stream_translation_of_a_documented_sse_sequence_with_a_function_call()
    {
        // alt=sse: each event a whole GenerateContentResponse (CRLF framed), usage on every chunk, finishReason on
        // the last, and no terminator after it.
        const string events = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Checking\"}],\"role\": \"model\"},\"index\": 0}],"
            + "\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"Y2hhdA\"}\r\n\r\n"
            + "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" the weather.\"}],\"role\": \"model\"},\"index\": 0}],"
            + "\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 4,\"totalTokenCount\": 13},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"Y2hhdA\"}\r\n\r\n"
            + "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"get_weather\",\"args\": {\"location\": \"Boston, MA\"}}}],\"role\": \"model\"},"
            + "\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 12,\"totalTokenCount\": 61,\"thoughtsTokenCount\": 40},"
            + "\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"Y2hhdA\"}\r\n\r\n";
        var chunks = await TranslateAsync(events);
        Assert.Equal(5, chunks.Count);
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("Checking", chunks[0]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        Assert.Equal(" the weather.", chunks[1]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        var call = chunks[2]["choices"]![0]!["delta"]!["tool_calls"]![0]!;
        Assert.Equal(0, call["index"]!.GetValue<int>());
        Assert.Equal("call_0", call["id"]!.GetValue<string>());
        Assert.Equal("get_weather", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"location":"Boston, MA"}""", call["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("tool_calls", chunks[3]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(9, chunks[4]["usage"]!["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(52, chunks[4]["usage"]!["completion_tokens"]!.GetValue<long>());
        Assert.All(chunks, c => Assert.Equal("Y2hhdA", c["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_stream_that_ends_without_a_finish_reason_is_broken()
    {
        const string events = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Once\"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n";
        await Assert.ThrowsAsync<IOException>(() => TranslateAsync(events));
    }

    [Fact]
    public async Task A_safety_stop_on_a_stream_finishes_as_content_filter()
    {
        const string events = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Once\"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n"
            + "data: {\"candidates\":[{\"finishReason\":\"SAFETY\",\"index\":0,\"safetyRatings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"probability\":\"HIGH\",\"blocked\":true}]}],"
            + "\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":1,\"totalTokenCount\":6}}\r\n\r\n";
        var chunks = await TranslateAsync(events);
        Assert.Equal("content_filter", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(1, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_blocked_prompt_or_an_error_event_on_a_stream_is_a_vendor_error()
    {
        var blocked = await Assert.ThrowsAsync<VendorError>(() => TranslateAsync("data: {\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\"}}\r\n\r\n"));
        Assert.Equal(VendorError.ContentFilter, blocked.Code);
        var failed = await Assert.ThrowsAsync<VendorError>(() => TranslateAsync(
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Once\"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n"
            + "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n"));
        Assert.Equal(VendorError.Overloaded, failed.Code);
    }

    [Theory]
    [InlineData(429, """{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateContentInputTokensPerModelPerMinute-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"26s"}]}}""", VendorError.RateLimited, 429)]
    [InlineData(429, """{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED"}}""", VendorError.QuotaExhausted, 429)]
    [InlineData(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}""", VendorError.QuotaExhausted, 429)]
    [InlineData(429, """{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}""", VendorError.RateLimited, 429)]
    [InlineData(400, """{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}""", VendorError.AuthFailed, 401)]
    [InlineData(400, """{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified","status":"INVALID_ARGUMENT"}}""", VendorError.InvalidRequest, 400)]
    [InlineData(403, """{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}""", VendorError.AuthFailed, 403)]
    [InlineData(400, """{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}""", VendorError.AuthFailed, 403)]
    [InlineData(404, """{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta","status":"NOT_FOUND"}}""", VendorError.ModelNotFound, 404)]
    [InlineData(500, """{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}""", VendorError.ServerError, 500)]
    [InlineData(503, """{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}""", VendorError.Overloaded, 503)]
    [InlineData(504, """{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}""", VendorError.ServerError, 504)]
    [InlineData(502, "<html>bad gateway</html>", VendorError.ServerError, 502)]
    public void Error_mapping_table(int status, string body, string code, int canonicalStatus)
    {
        var error = GeminiAdapter.MapError(status, AdapterChecks.JsonOrNull(body), null);
        Assert.Equal(code, error.Code);
        Assert.Equal(canonicalStatus, error.Status);
    }

    [Fact]
    public void A_rate_limit_carries_the_retry_delay_gemini_asked_for()
    {
        var body = JsonNode.Parse("""{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"26s"}]}}""");
        Assert.Equal(TimeSpan.FromSeconds(26), GeminiAdapter.MapError(429, body, null).RetryAfter);
    }

    [Fact]
    public async Task OpenAI_sdk_chat_and_stream_through_gemini()
    {
        var streamed = new List<StreamingChatCompletionUpdate>();
        await AdapterChecks.ChatAndStreamAsync(Sdk, "gemini", 6, streamed);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Stop, streamed.First(u => u.FinishReason is not null).FinishReason);
        await AdapterChecks.RecordsMatchBillsAsync(Host, 2, "gemini");
        // The vendor saw its own protocol: the model in the path, the key in x-goog-api-key, system on top.
        var sent = Host.Vendor.Requests.First(r => r.Path == "/v1beta/models/gemini-fake+chunks=6:generateContent");
        Assert.Equal(Host.Vendor.ApiKey, sent.Headers["x-goog-api-key"]);
        Assert.False(sent.Headers.ContainsKey("Authorization"));
        var body = JsonNode.Parse(sent.Body)!;
        Assert.Equal("Be brief.", body["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Null(body["model"]);
        Assert.Null(body["messages"]);
        Assert.Contains(Host.Vendor.Requests, r => r.Path == "/v1beta/models/gemini-fake+chunks=6:streamGenerateContent");
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_through_gemini_streamed_and_not()
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}"""),
            functionSchemaIsStrict: true);
        var streamed = new List<StreamingChatCompletionUpdate>();
        var completion = await AdapterChecks.ToolCallsStreamedAndNotAsync(Sdk, "gemini-tools", new ChatCompletionOptions { Tools = { tool } }, streamed: streamed);
        Assert.Equal(["call_0", "call_1"], completion.ToolCalls.Select(c => c.Id));

        // The tool results go back as functionResponse parts named after the calls they answer.
        ChatCompletion next = await Sdk.GetChatClient("gemini").CompleteChatAsync(AdapterChecks.WithToolResults(completion));
        Assert.NotEmpty(next.Content[0].Text);
        var sent = JsonNode.Parse(Host.Vendor.Requests.Last(r => r.Path.EndsWith(":generateContent", StringComparison.Ordinal)).Body)!;
        var responses = sent["contents"]![2]!["parts"]!.AsArray();
        Assert.Equal(["get_weather", "get_time"], responses.Select(p => p!["functionResponse"]!["name"]!.GetValue<string>()));
        Assert.Equal("18C", responses[0]!["functionResponse"]!["response"]!["output"]!.GetValue<string>());

        // Every call (tools streamed and not, then the follow-up) is metered as the vendor billed it.
        await AdapterChecks.RecordsMatchBillsAsync(Host, 3, "gemini");
        Assert.Equal(streamed.First(u => u.Usage is not null).Usage.OutputTokenCount, Host.Vendor.Ledger.Bills.Single(b => b.Streamed).CompletionTokens);
    }

    [Fact]
    public async Task OpenAI_sdk_embeddings_through_gemini_are_metered_as_estimated()
    {
        OpenAIEmbeddingCollection embeddings = await Sdk.GetEmbeddingClient("gemini-embed").GenerateEmbeddingsAsync(["first text", "第二"]);
        Assert.Equal(2, embeddings.Count);
        Assert.Equal(16, embeddings[0].ToFloats().Length);
        Assert.NotEqual(embeddings[0].ToFloats().ToArray(), embeddings[1].ToFloats().ToArray());

        var sent = Host.Vendor.Requests.Single(r => r.Path == "/v1beta/models/embedding-fake:batchEmbedContents");
        var requests = JsonNode.Parse(sent.Body)!["requests"]!.AsArray();
        Assert.Equal(["models/embedding-fake", "models/embedding-fake"], requests.Select(r => r!["model"]!.GetValue<string>()));
        Assert.Equal("第二", requests[1]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());

        // Gemini reports no tokens for embeddings: the record is an estimate, not a false zero, and the same tokenizer
        // on both sides makes it match the bill.
        var record = Assert.Single(await AdapterChecks.RecordsMatchBillsAsync(Host, 1, "gemini", usage: "estimated"));
        Assert.True(record["inputTokens"]!.GetValue<int>() > 0);
        Assert.True(record["cost"]!["amount"]!.GetValue<decimal>() > 0);
    }

    [Fact]
    public async Task Embeddings_as_floats_when_the_client_asks_for_floats()
    {
        using var response = await Http.PostAsJsonAsync("v1/embeddings", new { model = "gemini-embed", input = "hello", encoding_format = "float", dimensions = 8 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(8, body["data"]![0]!["embedding"]!.AsArray().Count);
        Assert.Null(body["usage"]);
        var sent = JsonNode.Parse(Host.Vendor.Requests.Single(r => r.Path.EndsWith(":batchEmbedContents", StringComparison.Ordinal)).Body)!;
        Assert.Equal(8, sent["requests"]![0]!["outputDimensionality"]!.GetValue<int>());

        // The same vector as base64 little-endian float32s when that is what the client asks for.
        using var encoded = await Http.PostAsJsonAsync("v1/embeddings", new { model = "gemini-embed", input = "hello", encoding_format = "base64", dimensions = 8 });
        var bytes = Convert.FromBase64String((await encoded.Content.ReadFromJsonAsync<JsonObject>())!["data"]![0]!["embedding"]!.GetValue<string>());
        var floats = Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray();
        Assert.Equal(body["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()), floats);
    }

    [Fact]
    public async Task A_gemini_answer_without_usage_metadata_is_estimated()
    {
        ChatCompletion completion = await Sdk.GetChatClient("gemini-nousage").CompleteChatAsync([new UserChatMessage("Hello")]);
        Assert.Equal(5, completion.Content[0].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        var record = Assert.Single(await Host.WaitForRecordsAsync(1));
        Assert.Equal("estimated", record["usage"]!.GetValue<string>());
        Assert.Equal(5, record["outputTokens"]!.GetValue<int>());
        Assert.True(record["inputTokens"]!.GetValue<int>() > 0);
    }

    [Theory]
    [InlineData("gemini-quota", false, 502, "upstream_quota_exhausted")]
    [InlineData("gemini-filter", false, 400, "content_filter")]
    [InlineData("gemini-filter", true, 400, "content_filter")]
    [InlineData("gemini-ratelimited", false, 503, "upstream_rate_limited")]
    [InlineData("gemini-busy", true, 503, "upstream_overloaded")]
    [InlineData("gemini-badkey", false, 502, "upstream_auth_failed")]
    public async Task Vendor_errors_reach_the_client_as_the_contract_codes(string model, bool stream, int status, string code) =>
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code, stream);

    [Fact]
    public async Task A_stream_cut_before_its_end_is_an_upstream_error_with_a_clean_error_event() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "gemini-reset", 3, "upstream_stream_error", BillOutcome.Reset); // three words, then the cut

    [Fact]
    public async Task An_error_event_mid_stream_ends_with_a_clean_error_and_a_record_of_what_was_streamed() =>
        await AdapterChecks.BrokenStreamAsync(Host, Http, "gemini-midstream", 3, VendorError.Overloaded);
}
