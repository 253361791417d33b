using System.Buffers;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.FakeVendor;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Adapters.AzureOpenAI;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;
using Mulan.Tests.Support;
using OpenAI;
using OpenAI.Embeddings;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>OpenAI clients served by Azure OpenAI deployments: the Azure URL and key, pass-through answers, Azure's errors.</summary>
public sealed class AzureOpenAIAdapterTests : AdapterTestHost
{
    protected override string Catalog => """
        {
          "providers": [ { "name": "azure", "kind": "azure-openai", "baseUrl": "{ORIGIN}", "apiKey": "env:FAKE_VENDOR_KEY" },
                         { "name": "azure-badkey", "kind": "azure-openai", "baseUrl": "{ORIGIN}", "apiKey": "wrong" } ],
          "models": [
            { "name": "azure-chat", "deployments": [ { "provider": "azure", "model": "gpt4o-prod+chunks=6", "price": { "currency": "USD", "input": 2.5, "output": 10 } } ] },
            { "name": "azure-tools", "deployments": [ { "provider": "azure", "model": "gpt4o-prod+tools", "price": { "currency": "USD", "input": 2.5, "output": 10 } } ] },
            { "name": "azure-embed", "deployments": [ { "provider": "azure", "model": "embed-prod", "price": { "currency": "USD", "input": 0.02, "output": 0 } } ] },
            { "name": "azure-filter", "deployments": [ { "provider": "azure", "model": "gpt4o-prod+filter", "price": { "currency": "USD", "input": 2.5, "output": 10 } } ] },
            { "name": "azure-quota", "deployments": [ { "provider": "azure", "model": "gpt4o-prod+quota", "price": { "currency": "USD", "input": 2.5, "output": 10 } } ] },
            { "name": "azure-429", "deployments": [ { "provider": "azure", "model": "gpt4o-prod+fail=429", "price": { "currency": "USD", "input": 2.5, "output": 10 } } ] },
            { "name": "azure-missing", "deployments": [ { "provider": "azure", "model": "gpt4o-prod+fail=404", "price": { "currency": "USD", "input": 2.5, "output": 10 } } ] },
            { "name": "azure-badkey", "deployments": [ { "provider": "azure-badkey", "model": "gpt4o-prod", "price": { "currency": "USD", "input": 2.5, "output": 10 } } ] }
          ]
        }
        """;

    [Fact]
    public void The_request_names_the_deployment_in_the_path_and_pins_the_api_version()
    {
        Assert.Equal("https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            AzureOpenAIAdapter.RequestUri(new Uri("https://myres.openai.azure.com/"), "gpt-4o", GatewayEndpoint.ChatCompletions).AbsoluteUri);
        Assert.Equal("https://myres.openai.azure.com/openai/deployments/embed%2Bv2/embeddings?api-version=2024-10-21",
            AzureOpenAIAdapter.RequestUri(new Uri("https://myres.openai.azure.com"), "embed+v2", GatewayEndpoint.Embeddings).AbsoluteUri);
    }

    [Fact]
    public void The_body_drops_model_and_asks_for_usage_on_streams_without_touching_the_clients_body()
    {
        var openAI = JsonNode.Parse("""{"model":"azure-chat","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}],"temperature":0.2}""")!.AsObject();
        var before = openAI.ToJsonString();
        var body = AzureOpenAIAdapter.TranslateRequest(openAI, stream: true);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}],"temperature":0.2}"""), body), body.ToJsonString());
        Assert.Equal(before, openAI.ToJsonString());

        var plain = AzureOpenAIAdapter.TranslateRequest(JsonNode.Parse("""{"model":"m","input":["a","b"]}""")!.AsObject(), stream: false);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"input":["a","b"]}"""), plain), plain.ToJsonString());
    }

    [Theory]
    // Azure's documented prompt-filter refusal.
    [InlineData(400, """{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}}}""", VendorError.ContentFilter)]
    [InlineData(400, """{"error":{"message":"filtered","code":"invalid_prompt","innererror":{"code":"ResponsibleAIPolicyViolation"}}}""", VendorError.ContentFilter)]
    [InlineData(429, """{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier."}}""", VendorError.RateLimited)]
    [InlineData(429, """{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""", VendorError.QuotaExhausted)]
    [InlineData(401, """{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}""", VendorError.AuthFailed)]
    [InlineData(403, """{"error":{"code":"AuthenticationTypeDisabled","message":"Key based authentication is disabled for this resource."}}""", VendorError.AuthFailed)]
    [InlineData(404, """{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}""", VendorError.ModelNotFound)]
    [InlineData(404, """{"error":{"code":"404","message":"Resource not found"}}""", VendorError.ModelNotFound)]
    [InlineData(400, """{"error":{"message":"'messages' is a required property","type":"invalid_request_error","param":null,"code":null}}""", VendorError.InvalidRequest)]
    [InlineData(500, """{"error":{"message":"The server had an error processing your request.","type":"server_error","param":null,"code":null}}""", VendorError.ServerError)]
    [InlineData(503, """{"error":{"code":"ServiceUnavailable","message":"The service is temporarily unable to process your request."}}""", VendorError.Overloaded)]
    public void Error_mapping_table(int status, string body, string code)
    {
        var error = AzureOpenAIAdapter.MapError(status, JsonNode.Parse(body), null);
        Assert.Equal(code, error.Code);
        Assert.StartsWith("Azure OpenAI: ", error.Message);
    }

    [Fact]
    public async Task A_stream_ending_in_content_filter_passes_through_byte_for_byte()
    {
        // Shaped like Azure's documented content-filtering stream: a prompt_filter_results event with empty choices,
        // deltas annotated with content_filter_results, then finish_reason "content_filter".
        const string stream = """
            data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}

            data: {"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1688153685,"id":"chatcmpl-7XSBVULpLZgAhaS4NnkhKCfTsvvfx","model":"gpt-35-turbo","object":"chat.completion.chunk"}

            data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":"Color"},"finish_reason":null,"index":0}],"created":1688153685,"id":"chatcmpl-7XSBVULpLZgAhaS4NnkhKCfTsvvfx","model":"gpt-35-turbo","object":"chat.completion.chunk"}

            data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}},"delta":{},"finish_reason":"content_filter","index":0}],"created":1688153685,"id":"chatcmpl-7XSBVULpLZgAhaS4NnkhKCfTsvvfx","model":"gpt-35-turbo","object":"chat.completion.chunk"}

            data: {"choices":[],"created":1688153685,"id":"chatcmpl-7XSBVULpLZgAhaS4NnkhKCfTsvvfx","model":"gpt-35-turbo","object":"chat.completion.chunk","usage":{"completion_tokens":1,"prompt_tokens":12,"total_tokens":13}}

            data: [DONE]


            """;
        HttpRequestMessage? seen = null;
        string? sentBody = null;
        using var http = new HttpClient(new StubHandler(async request =>
        {
            seen = request;
            sentBody = await request.Content!.ReadAsStringAsync();
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(stream, Encoding.UTF8, "text/event-stream") };
        }));
        var provider = new Provider("azure", ProviderKind.All["azure-openai"], new Uri("https://myres.openai.azure.com"), "azure-key-123",
            new Dictionary<string, string>(), CatalogSource.Config);
        var body = Encoding.UTF8.GetBytes("""{"model":"azure-chat","stream":true,"messages":[{"role":"user","content":"What color?"}]}""");
        var request = GatewayRequest.Parse(GatewayEndpoint.ChatCompletions, new ReadOnlySequence<byte>(body), out _);
        var call = new AdapterCall(new Deployment(provider, "gpt-35-prod", new Price(Currency.USD, 1, 1, null)), request, "req-1", http, 1 << 20, TimeSpan.FromSeconds(10));

        using var response = await new AzureOpenAIAdapter().SendAsync(call, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(stream, await response.Content.ReadAsStringAsync());
        Assert.Equal("https://myres.openai.azure.com/openai/deployments/gpt-35-prod/chat/completions?api-version=2024-10-21", seen!.RequestUri!.AbsoluteUri);
        Assert.Equal("azure-key-123", seen.Headers.GetValues("api-key").Single());
        Assert.Null(seen.Headers.Authorization);
        Assert.Equal("req-1", seen.Headers.GetValues("x-mulan-request-id").Single());
        var sent = JsonNode.Parse(sentBody!)!;
        Assert.Null(sent["model"]);
        Assert.True(sent["stream_options"]!["include_usage"]!.GetValue<bool>());
    }

    [Fact]
    public async Task OpenAI_sdk_chat_stream_and_embeddings_through_azure()
    {
        await AdapterChecks.ChatAndStreamAsync(Sdk, "azure-chat", 6);

        OpenAIEmbeddingCollection vectors = await Sdk.GetEmbeddingClient("azure-embed").GenerateEmbeddingsAsync(["first text", "second text"]);
        Assert.Equal(2, vectors.Count);
        Assert.Equal(16, vectors[0].ToFloats().Length);

        await AdapterChecks.RecordsMatchBillsAsync(Host, 3, "azure", outcome: BillOutcome.Completed);
        var bills = Host.Vendor.Ledger.Bills;
        Assert.Equal(["gpt4o-prod+chunks=6", "gpt4o-prod+chunks=6", "embed-prod"], bills.Select(b => b.Model).ToArray());

        // Azure's URL, version and key header; the deployment in the path, not in the body.
        var sent = Host.Vendor.Requests;
        Assert.Equal(["/openai/deployments/gpt4o-prod+chunks=6/chat/completions", "/openai/deployments/gpt4o-prod+chunks=6/chat/completions",
            "/openai/deployments/embed-prod/embeddings"], sent.Select(r => r.Path).ToArray());
        Assert.All(sent, r =>
        {
            Assert.Equal(Host.Vendor.ApiKey, r.Headers["api-key"]);
            Assert.False(r.Headers.ContainsKey("Authorization"));
            Assert.Null(JsonNode.Parse(r.Body)!["model"]);
        });
        Assert.True(JsonNode.Parse(sent[1].Body)!["stream_options"]!["include_usage"]!.GetValue<bool>());
    }

    [Fact]
    public async Task OpenAI_sdk_tool_calls_through_azure_streamed_and_not() =>
        await AdapterChecks.ToolCallsStreamedAndNotAsync(Sdk, "azure-tools", argumentsVerbatim: true);

    [Theory]
    [InlineData("azure-filter", 400, "content_filter")]
    [InlineData("azure-quota", 502, "upstream_quota_exhausted")]
    [InlineData("azure-429", 503, "upstream_rate_limited")]
    [InlineData("azure-badkey", 502, "upstream_auth_failed")]
    [InlineData("azure-missing", 404, VendorError.ModelNotFound)]
    public async Task Vendor_errors_reach_the_client_as_the_contract_codes(string model, int status, string code) =>
        await AdapterChecks.ContractErrorAsync(Host, Http, model, (HttpStatusCode)status, code);

    [Theory]
    [InlineData("")]
    [InlineData("?api-version=2023-13-45")]
    public async Task The_fake_refuses_a_missing_or_unknown_api_version_as_azure_does(string query)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Host.Vendor.Origin, "/openai/deployments/gpt4o-prod/chat/completions" + query))
        {
            Content = JsonContent.Create(new { messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.Add("api-key", Host.Vendor.ApiKey);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Resource not found", (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["message"]!.GetValue<string>());
    }

    private sealed class StubHandler(Func<HttpRequestMessage, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => answer(request);
    }
}
