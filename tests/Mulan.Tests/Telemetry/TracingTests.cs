using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Tests.Apps;
using Mulan.Tests.Assistant;
using Mulan.Tests.Support;
using OpenTelemetry.Trace;
using Xunit;

namespace Mulan.Tests.Telemetry;

/// <summary>Spans exported over OTLP/HTTP by the host's real pipeline to a loopback receiver, decoded from protobuf.
/// The activity source is process-wide, so spans of other tests' hosts may arrive too: each test picks its own by id.</summary>
public sealed class TracingTests
{
    private static readonly string FallbackCatalog = MulanHost.DefaultCatalog.Replace(
        """{ "name": "chat", "deployments":""",
        """
        { "name": "chat-fallback", "deployments": [
            { "provider": "fake", "model": "fake-chat+fail=503", "price": { "currency": "USD", "input": 1, "output": 1 } },
            { "provider": "fake", "model": "fake-chat+chunks=4", "price": { "currency": "USD", "input": 0.15, "output": 0.60 } } ] },
        { "name": "chat", "deployments":
        """, StringComparison.Ordinal);

    private static Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> Traced(OtlpReceiver receiver, bool content = false) => b =>
    {
        b.Configuration["Telemetry:Traces:OtlpEndpoint"] = receiver.TracesUrl.ToString();
        b.Configuration["Telemetry:Traces:RecordContent"] = content ? "true" : "false";
    };

    /// <summary>Exports what has ended until the spans <paramref name="ended"/> looks for are in (a request's span ends
    /// just after its response's last byte, so a client can be answered a moment before it is exported).</summary>
    private static async Task<IReadOnlyList<OtlpSpan>> FlushAsync(MulanHost host, OtlpReceiver receiver, Func<IReadOnlyList<OtlpSpan>, bool> ended)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            Assert.True(host.App.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
            var spans = receiver.Spans();
            if (ended(spans) || DateTime.UtcNow > deadline)
            {
                return spans;
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_request_that_falls_back_is_one_span_with_a_client_span_per_attempt_and_no_prompt_or_secret()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var host = await MulanHost.StartAsync(FallbackCatalog, Traced(receiver));
        var secret = await host.CreateKeyAsync();
        using var client = host.Client(secret);
        var prompt = "the secret plan " + Guid.NewGuid().ToString("N");
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat-fallback", max_tokens = 50, messages = new[] { new { role = "user", content = prompt } } });
        response.EnsureSuccessStatusCode();
        var requestId = response.Headers.GetValues("x-mulan-request-id").Single();
        using var embed = await client.PostAsJsonAsync("v1/embeddings", new { model = "embed", input = prompt });
        embed.EnsureSuccessStatusCode();
        var embedId = embed.Headers.GetValues("x-mulan-request-id").Single();
        var spans = await FlushAsync(host, receiver, all => all.Any(s => s.Text("mulan.request.id") == requestId) && all.Any(s => s.Text("mulan.request.id") == embedId));
        var request = Assert.Single(spans, s => s.Text("mulan.request.id") == requestId);
        Assert.Equal("chat chat-fallback", request.Name);
        Assert.Equal(1, request.Kind);
        Assert.Equal("chat", request.Text("gen_ai.operation.name"));
        Assert.Equal("chat-fallback", request.Text("gen_ai.request.model"));
        Assert.Equal(50d, request.Attributes["gen_ai.request.max_tokens"]);
        var record = (await host.UsageRecordsAsync()).Single(r => r["requestId"]!.GetValue<string>() == requestId);
        Assert.Equal(record["inputTokens"]!.GetValue<long>(), request.Attributes["gen_ai.usage.input_tokens"]);
        Assert.Equal(record["outputTokens"]!.GetValue<long>(), request.Attributes["gen_ai.usage.output_tokens"]);
        Assert.Equal((double)record["cost"]!["amount"]!.GetValue<decimal>(), (double)request.Attributes["mulan.cost"], 9);
        Assert.Equal(record["key"]!.GetValue<string>(), request.Text("mulan.key.id"));
        Assert.Equal("fake-chat+chunks=4", request.Text("gen_ai.response.model"));

        var attempts = spans.Where(s => s.ParentSpanId == request.SpanId).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(3, a.Kind);
            Assert.Equal(request.TraceId, a.TraceId);
            Assert.Equal("openai", a.Text("gen_ai.provider.name"));
            Assert.Equal("127.0.0.1", a.Text("server.address"));
        });
        var failed = Assert.Single(attempts, a => a.Text("gen_ai.request.model") == "fake-chat+fail=503");
        Assert.Equal("chat fake-chat+fail=503", failed.Name);
        Assert.Equal(2, failed.StatusCode);
        Assert.NotNull(failed.Text("error.type"));
        var served = Assert.Single(attempts, a => a.Text("gen_ai.request.model") == "fake-chat+chunks=4");
        Assert.Equal(0, served.StatusCode);
        Assert.Equal(record["inputTokens"]!.GetValue<long>(), served.Attributes["gen_ai.usage.input_tokens"]);
        Assert.StartsWith("chatcmpl", served.Text("gen_ai.response.id"));

        var embedding = Assert.Single(spans, s => s.Text("mulan.request.id") == embedId);
        Assert.Equal("embeddings embed", embedding.Name);
        Assert.Single(spans, s => s.ParentSpanId == embedding.SpanId && s.Name == "embeddings fake-embed");

        // Nothing of the prompt, the answer or a secret was exported.
        var exported = string.Concat(receiver.Bodies.Select(Encoding.UTF8.GetString));
        Assert.DoesNotContain(prompt, exported, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, exported, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Vendor.ApiKey, exported, StringComparison.Ordinal);
        Assert.DoesNotContain(MulanHost.AdminKey, exported, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_RecordContent_the_messages_and_the_answer_are_on_the_span()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var host = await MulanHost.StartAsync(configure: Traced(receiver, content: true));
        using var client = host.Client(await host.CreateKeyAsync());
        var prompt = "tell me about " + Guid.NewGuid().ToString("N");
        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "chat", messages = new[] { new { role = "user", content = prompt } } });
        response.EnsureSuccessStatusCode();
        var requestId = response.Headers.GetValues("x-mulan-request-id").Single();
        var all = await FlushAsync(host, receiver, all => all.Any(s => s.Text("mulan.request.id") == requestId));
        var span = all.SingleOrDefault(s => s.Text("mulan.request.id") == requestId);
        Assert.True(span is not null, $"{receiver.Bodies.Count} exports: " + string.Join(", ", all.Select(s => s.Name + " " + s.Text("mulan.request.id"))));
        Assert.Contains(prompt, span.Text("gen_ai.input.messages"), StringComparison.Ordinal);
        Assert.Contains("\"content\"", span.Text("gen_ai.output.messages"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_assistant_run_is_an_agent_span_over_its_model_calls_and_tool_calls()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var host = await AssistantTestKit.StartAsync(Traced(receiver));
        await AppTestKit.KnowledgeBaseAsync(host, "orders", "Order 1001 shipped on May 3 by SF Express.");
        var app = await AppTestKit.PublishAsync(host, new
        {
            slug = "traced-bot", name = "traced-bot", kind = "assistant", model = "agent", knowledgeBases = new[] { "orders" },
            instructions = "You look up orders.", assistant = new { maxSteps = 10 },
        });
        var started = await AssistantTestKit.StartRunAsync(host.Admin, app, "CALL knowledge_search {\"query\":\"order 1001 shipped\"}");
        var run = await AssistantTestKit.WaitAsync(host.Admin, started["id"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var runId = run["id"]!.GetValue<string>();
        var spans = await FlushAsync(host, receiver, all => all.Any(s => s.Text("mulan.run.id") == runId && s.Name.StartsWith("invoke_agent", StringComparison.Ordinal)));
        var agent = Assert.Single(spans, s => s.Name == "invoke_agent traced-bot" && s.Text("mulan.run.id") == runId);
        Assert.Equal("invoke_agent", agent.Text("gen_ai.operation.name"));
        Assert.Equal(app, agent.Text("gen_ai.agent.id"));
        Assert.Equal("succeeded", agent.Text("mulan.run.status"));
        var children = spans.Where(s => s.ParentSpanId == agent.SpanId).ToList();
        var tool = Assert.Single(children, s => s.Name == "execute_tool knowledge_search");
        Assert.Equal("knowledge_search", tool.Text("gen_ai.tool.name"));
        Assert.Null(tool.Text("gen_ai.tool.call.arguments"));
        Assert.Equal(2, children.Count(s => s.Name == "chat agent"));
    }
}
