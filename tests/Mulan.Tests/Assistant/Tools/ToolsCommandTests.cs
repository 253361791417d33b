using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Assistant.Tools;

/// <summary>The real <c>mulan tools</c> verbs (the built executable) against a running server.</summary>
public sealed class ToolsCommandTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mulan-tools-cli-").FullName;
    private MulanHost _host = null!;
    private OrdersService _orders = null!;
    private Dictionary<string, string?> _env = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _orders = await OrdersService.StartAsync();
        _env = new Dictionary<string, string?>
        {
            ["MULAN_URL"] = _host.BaseUrl.ToString(), ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey, ["ORDERS_KEY"] = OrdersService.Secret,
        };
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _orders.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args) => MulanProcess.RunAsync(args, _env, null);

    private async Task<JsonNode> JsonAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync([.. args, "--json"]);
        Assert.True(code == 0, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return JsonNode.Parse(stdout)!;
    }

    [Fact]
    public async Task Import_list_show_and_delete_with_the_credential_read_from_the_environment()
    {
        var file = Path.Combine(_dir, "orders.yaml");
        await File.WriteAllTextAsync(file, _orders.Yaml);
        var created = await JsonAsync("tools", "import-openapi", file, "--allow-host", _orders.Host, "--operation", "getOrder",
            "--credential-header", "X-Api-Key", "--credential-env", "ORDERS_KEY", "--timeout", "5");
        Assert.Equal("orders", created["name"]!.GetValue<string>());
        Assert.Equal("""[{"name":"getOrder","sideEffect":false}]""", created["tools"]!.ToJsonString());
        Assert.DoesNotContain(OrdersService.Secret, created.ToJsonString(), StringComparison.Ordinal);
        var result = await ToolTestKit.CallAsync(_host, created.AsObject(), "getOrder", new JsonObject { ["id"] = "C-3" });
        Assert.True(result.Ok, result.Error);

        var (code, stdout, stderr) = await RunAsync("tools", "import-openapi", file, "--name", "again", "--credential-header", "X-Api-Key", "--credential-env", "UNSET_VAR_X");
        Assert.Equal(1, code);
        Assert.Contains("UNSET_VAR_X", stderr + stdout, StringComparison.Ordinal);

        var mcp = await JsonAsync("tools", "add-mcp", "dotnet", McpToolTestsStdioDll, "--name", "desk");
        Assert.Equal("mcp", mcp["kind"]!.GetValue<string>());
        Assert.Equal(6, mcp["tools"]!.AsArray().Count);

        var list = await JsonAsync("tools", "list");
        Assert.Equal(["desk", "orders"], list["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        var shown = await JsonAsync("tools", "show", "orders");
        Assert.Equal("X-Api-Key", shown["credentialHeader"]!.GetValue<string>());
        var (showCode, human, _) = await RunAsync("tools", "show", "orders");
        Assert.Equal(0, showCode);
        Assert.Contains("getOrder", human, StringComparison.Ordinal);

        var (missing, _, missingError) = await RunAsync("tools", "show", "nope");
        Assert.Equal(1, missing);
        Assert.Contains("No tool source 'nope'", missingError + human, StringComparison.Ordinal);

        var deleted = await JsonAsync("tools", "delete", "orders");
        Assert.Equal("orders", deleted["name"]!.GetValue<string>());
        Assert.Equal(["desk"], (await JsonAsync("tools", "list"))["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
    }

    private static string McpToolTestsStdioDll => Path.Combine(AppContext.BaseDirectory, "Mulan.FakeMcp.dll");
}
