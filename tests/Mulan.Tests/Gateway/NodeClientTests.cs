using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Gateway;

/// <summary>The official <c>openai</c> npm package, run by Node against a running Mulan.</summary>
public sealed class NodeClientTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Openai_npm_package_chat_stream_tools_embeddings_and_errors()
    {
        var key = await _host.CreateKeyAsync(new { name = "node" });
        var (code, output) = await NodeScripts.RunAsync("openai-client.mjs",
            new() { ["MULAN_BASE_URL"] = _host.V1.ToString().TrimEnd('/'), ["MULAN_KEY"] = key });
        Assert.True(code == 0, output);
        var result = JsonNode.Parse(output.Trim().Split('\n')[^1])!;

        Assert.Equal("stop", result["chat"]!["finish"]!.GetValue<string>());
        Assert.Equal(12, result["chat"]!["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(20, result["stream"]!["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal("CNY", result["stream"]!["usage"]!["cost"]!["currency"]!.GetValue<string>());
        Assert.Equal(20, result["stream"]!["text"]!.GetValue<string>().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        var tools = result["tools"]!.AsArray();
        Assert.Equal("get_weather", tools[0]!["name"]!.GetValue<string>());
        Assert.Equal("""{"city":"Paris"}""", tools[0]!["arguments"]!.GetValue<string>());
        Assert.Equal(2, result["embeddings"]!["count"]!.GetValue<int>());
        Assert.Equal(404, result["error"]!["status"]!.GetValue<int>());
        Assert.Equal("model_not_found", result["error"]!["code"]!.GetValue<string>());
        Assert.Equal(5, (await _host.UsageRecordsAsync()).Count);
    }
}
