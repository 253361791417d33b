using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway;

/// <summary>
/// Pins the OpenAI-compatible wire format in both directions: the exact bytes Mulan sends upstream, and the
/// exact JSON and SSE frames the client receives. Only the vendor's random ids and timestamps are normalised.
/// </summary>
public sealed partial class WireGoldenTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _client = _host.Client(await _host.CreateKeyAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    internal static string Normalise(string text) =>
        CallId().Replace(Created().Replace(ChatId().Replace(text, "chatcmpl-ID"), "\"created\":0"), "call_ID_");

    /// <summary>Compares with a golden text; with MULAN_GOLDEN_DUMP=DIR set, writes the actual text there to review and re-pin.</summary>
    private static void AssertGolden(string expected, string actual, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        if (Environment.GetEnvironmentVariable("MULAN_GOLDEN_DUMP") is { Length: > 0 } dir && expected != actual)
        {
            File.WriteAllText(Path.Combine(dir, name + ".txt"), actual);
        }
        Assert.Equal(expected, actual);
    }

    [GeneratedRegex("chatcmpl-[0-9a-f]+")]
    private static partial Regex ChatId();

    [GeneratedRegex("call_[0-9a-f]+_")]
    private static partial Regex CallId();

    [GeneratedRegex("\"created\":\\d+")]
    private static partial Regex Created();

    [Fact]
    public async Task Non_streaming_request_is_forwarded_verbatim_except_the_model()
    {
        const string body = """{"model":"chat","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"你好"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],"temperature":0.2,"response_format":{"type":"json_object"},"user":"u-1","seed":7}""";
        var response = await _client.PostAsync("v1/chat/completions", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = Assert.Single(_host.Vendor.Requests);
        Assert.Equal(body.Replace("\"model\":\"chat\"", "\"model\":\"fake-chat\""), Encoding.UTF8.GetString(forwarded.Body));
        Assert.Equal("Bearer " + _host.Vendor.ApiKey, forwarded.Headers["Authorization"]);
        Assert.Equal(response.Headers.GetValues("x-mulan-request-id").Single(), forwarded.Headers["x-mulan-request-id"]);
    }

    [Fact]
    public async Task Streaming_request_always_asks_the_upstream_for_usage()
    {
        const string body = """{"model":"chat-short","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"continuous_usage_stats":false}}""";
        var response = await _client.PostAsync("v1/chat/completions", Json(body));
        await response.Content.ReadAsStringAsync();
        var forwarded = Encoding.UTF8.GetString(Assert.Single(_host.Vendor.Requests).Body);
        Assert.Equal("""{"model":"fake-chat+chunks=3","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"continuous_usage_stats":false,"include_usage":true}}""", forwarded);
    }

    [Fact]
    public async Task Non_streaming_response_is_the_vendors_bytes_with_cost_headers()
    {
        var response = await _client.PostAsync("v1/chat/completions", Json("""{"model":"chat-short","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var text = Normalise(await response.Content.ReadAsStringAsync());
        AssertGolden(GoldenNonStreaming, text);
        // 8 input tokens at 0.15/M + 3 output tokens at 0.60/M
        Assert.Equal("0.000003", response.Headers.GetValues("x-mulan-cost").Single());
        Assert.Equal("USD", response.Headers.GetValues("x-mulan-cost-currency").Single());
    }

    [Fact]
    public async Task Stream_without_include_usage_has_no_usage_chunk()
    {
        var response = await _client.PostAsync("v1/chat/completions", Json("""{"model":"chat-short","messages":[{"role":"user","content":"hi"}],"stream":true}"""));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var frames = Normalise(await response.Content.ReadAsStringAsync());
        AssertGolden(GoldenStream, frames);
    }

    [Fact]
    public async Task Stream_with_include_usage_ends_with_usage_and_cost()
    {
        var response = await _client.PostAsync("v1/chat/completions", Json("""{"model":"chat-short","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"""));
        var frames = Normalise(await response.Content.ReadAsStringAsync());
        AssertGolden(GoldenStreamWithUsage, frames);
    }

    [Fact]
    public async Task Tool_call_deltas_pass_through_unchanged()
    {
        var response = await _client.PostAsync("v1/chat/completions", Json("""{"model":"chat-tools","messages":[{"role":"user","content":"weather?"}],"stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}"""));
        var frames = Normalise(await response.Content.ReadAsStringAsync());
        AssertGolden(GoldenToolStream, frames);
    }

    [Fact]
    public async Task Embeddings_are_passed_through()
    {
        var response = await _client.PostAsync("v1/embeddings", Json("""{"model":"embed","input":["a","b"],"dimensions":4}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("""{"model":"fake-embed","input":["a","b"],"dimensions":4}""", Encoding.UTF8.GetString(Assert.Single(_host.Vendor.Requests).Body));
        AssertGolden(GoldenEmbeddings, text);
    }

    [Fact]
    public async Task Errors_use_the_openai_error_object_exactly()
    {
        var response = await _client.PostAsync("v1/chat/completions", Json("""{"model":"nope","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal("""{"error":{"message":"The model 'nope' does not exist or is not configured on this gateway.","type":"invalid_request_error","param":"model","code":"model_not_found"}}""",
            await response.Content.ReadAsStringAsync());
    }

    private const string GoldenNonStreaming = """{"id":"chatcmpl-ID","object":"chat.completion","created":0,"model":"fake-chat+chunks=3","choices":[{"index":0,"message":{"role":"assistant","content":" brown fox jumps","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_fake"}""";

    private static readonly string GoldenStream = Frames(
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":" line"},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":" group"},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":" field"},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}""",
        """[DONE]""");

    private static readonly string GoldenStreamWithUsage = Frames(
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":" line"},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":" group"},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"content":" field"},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+chunks=3","system_fingerprint":"fp_fake","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0},"cost":{"amount":0.000003,"currency":"USD"}}}""",
        """[DONE]""");

    private static readonly string GoldenToolStream = Frames(
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_ID_0","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"city"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\":\""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"Paris"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"}"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_ID_1","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"tz"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\":\""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"Europe"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"/"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"Paris"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"}"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-ID","object":"chat.completion.chunk","created":0,"model":"fake-chat+tools","system_fingerprint":"fp_fake","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}""",
        """[DONE]""");

    private const string GoldenEmbeddings = """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[-0.17433889,0.67703056,0.6688541,0.25272438]},{"object":"embedding","index":1,"embedding":[-0.39882213,-0.3585581,0.31693044,-0.78226095]}],"model":"fake-embed","usage":{"prompt_tokens":2,"total_tokens":2}}""";

    private static string Frames(params string[] events) => string.Concat(events.Select(e => "data: " + e + "\n\n"));
}
