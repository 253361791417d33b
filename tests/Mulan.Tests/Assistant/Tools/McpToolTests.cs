using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Mulan.FakeMcp;
using Mulan.Tests.Support;
using static Mulan.Tests.Assistant.Tools.ToolTestKit;

namespace Mulan.Tests.Assistant.Tools;

/// <summary>MCP tool sources: a server built with the same SDK, over streamable HTTP on loopback (port 0) and over stdio
/// (the fake server's program, started by Mulan as a command).</summary>
public sealed class McpToolTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private WebApplication _mcp = null!;
    private Uri _mcpUrl = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        var (app, origin) = await StartLoopbackAsync(services => services.AddMcpServer().WithHttpTransport().WithTools<FakeMcpTools>(), app => app.MapMcp("/mcp"));
        (_mcp, _mcpUrl) = (app, new Uri(origin, "/mcp"));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _mcp.DisposeAsync();
    }

    /// <summary>The fake server's program, built beside the tests: run with the same dotnet as this process.</summary>
    public static object Stdio => new { command = "dotnet", args = new[] { Path.Combine(AppContext.BaseDirectory, "Mulan.FakeMcp.dll") } };

    private static readonly Dictionary<string, bool> Expected = new()
    {
        ["lookup_order"] = false, ["list_orders"] = false, ["create_ticket"] = true, ["always_fails"] = false, ["environment"] = false, ["wait"] = false,
    };

    private async Task ListsAndCallsAsync(JsonObject source)
    {
        Assert.Equal(Expected, ToolsOf(source));
        await using var set = await ResolveAsync(_host, source);
        var spec = set.Specs.Single(s => s.Name == "lookup_order");
        Assert.Equal("Looks an order up by its id.", spec.Description);
        Assert.Equal("string", spec.Parameters["properties"]!["id"]!["type"]!.GetValue<string>());
        var found = await set.CallAsync("lookup_order", new JsonObject { ["id"] = "A-1" }, default);
        Assert.True(found.Ok, found.Error);
        Assert.Equal("order A-1: shipped", found.Output);
        // A second call reuses the connection.
        Assert.Equal("ticket opened: refund", (await set.CallAsync("create_ticket", new JsonObject { ["subject"] = "refund" }, default)).Output);
        var failed = await set.CallAsync("always_fails", [], default);
        Assert.False(failed.Ok);
        Assert.NotNull(failed.Error);
        Assert.True((await set.CallAsync("list_orders", [], default)).Ok, "the session survives a failed call");
    }

    [Fact]
    public async Task A_streamable_http_server_is_listed_and_called_through_its_allowed_host()
    {
        var source = await CreateAsync(_host, new { name = "desk", mcp = new { url = _mcpUrl.ToString() }, allowHosts = new[] { _mcpUrl.Host },
            sideEffects = new { list_orders = true } });
        Assert.True(ToolsOf(source)["list_orders"]);
        var plain = await CreateAsync(_host, new { name = "desk2", mcp = new { url = _mcpUrl.ToString() }, allowHosts = new[] { _mcpUrl.Host } });
        await ListsAndCallsAsync(plain);
        Assert.Contains("\"kind\":\"mcp\"", await _host.Admin.GetStringAsync("api/tools/desk2"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stdio_server_is_started_listed_and_called_without_the_servers_environment()
    {
        // A variable of this process (standing for the server's own, such as its administrator key) is not passed on.
        Environment.SetEnvironmentVariable("MULAN_TOOLS_TEST_SECRET", "do-not-pass");
        var source = await CreateAsync(_host, new { name = "desk", mcp = Stdio });
        await ListsAndCallsAsync(source);
        Assert.Equal("unset", (await CallAsync(_host, source, "environment", new JsonObject { ["name"] = "MULAN_TOOLS_TEST_SECRET" })).Output);
        Assert.Equal("set", (await CallAsync(_host, source, "environment", new JsonObject { ["name"] = "PATH" })).Output);
    }

    [Fact]
    public async Task A_call_that_outlasts_the_sources_limit_is_a_failed_result_and_the_next_call_works()
    {
        var source = await CreateAsync(_host, new { name = "desk", mcp = new { url = _mcpUrl.ToString() }, allowHosts = new[] { _mcpUrl.Host }, timeoutSeconds = 1 });
        await using var set = await ResolveAsync(_host, source);
        var clock = Stopwatch.StartNew();
        var slow = await set.CallAsync("wait", new JsonObject { ["seconds"] = 30 }, default);
        Assert.False(slow.Ok);
        Assert.Equal("no answer within 1 s", slow.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal("done", (await set.CallAsync("wait", new JsonObject { ["seconds"] = 0 }, default)).Output);
    }

    [Fact]
    public async Task An_mcp_server_on_a_private_address_needs_its_host_allowed()
    {
        var (response, problem) = await PostAsync(_host, new { name = "desk", mcp = new { url = _mcpUrl.ToString() } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("mcp server unreachable: ", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync(_host));
    }

    [Fact]
    public async Task Unreachable_servers_and_failing_commands_are_400_quickly_and_store_nothing()
    {
        var clock = Stopwatch.StartNew();
        foreach (var body in new object[]
        {
            new { name = "gone", mcp = new { url = "http://127.0.0.1:1/mcp" }, allowHosts = new[] { "127.0.0.1" } },
            new { name = "gone", mcp = new { command = "/nonexistent/mcp-server" } },
            new { name = "gone", mcp = new { command = "dotnet", args = new[] { "--version" } } },
        })
        {
            var (response, problem) = await PostAsync(_host, body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("mcp server unreachable: ", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"took {clock.Elapsed}");
        Assert.Equal(0, await CountAsync(_host));
    }
}
