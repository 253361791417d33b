using System.Text.Json.Nodes;
using Mulan.Tests.Apps;
using Mulan.Tests.Assistant;
using Mulan.Tests.Assistant.Tools;
using Mulan.Tests.Support;

using static Mulan.Tests.Assistant.AssistantTestKit;

namespace Mulan.Tests.Cli;

/// <summary>The real <c>mulan runs</c> verbs against a running server: list, show, approve with edited arguments, reject, cancel.</summary>
public sealed class RunsCommandTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private OrdersService _orders = null!;
    private Dictionary<string, string?> _env = null!;

    public async Task InitializeAsync()
    {
        _orders = await OrdersService.StartAsync();
        _host = await AssistantTestKit.StartAsync();
        _env = new Dictionary<string, string?> { ["MULAN_URL"] = _host.BaseUrl.ToString(), ["MULAN_ADMIN_KEY"] = MulanHost.AdminKey };
        await OrdersSourceAsync(_host, _orders);
        await AppTestKit.PublishAsync(_host, new { slug = "bot", name = "bot", kind = "assistant", model = "agent", tools = new[] { "orders" } });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _orders.DisposeAsync();
    }

    private async Task<string> WaitingRunAsync(int customer) =>
        (await AssistantTestKit.WaitAsync(_host.Admin, (await AssistantTestKit.StartRunAsync(_host.Admin, "bot", $"CALL delete_customer {{\"id\":{customer}}}"))["id"]!.GetValue<string>(),
            "awaiting_approval"))["id"]!.GetValue<string>();

    private async Task<JsonNode> JsonAsync(params string[] args)
    {
        var (code, stdout, stderr) = await MulanProcess.RunAsync([.. args, "--json"], _env);
        Assert.True(code == 0, $"mulan {string.Join(' ', args)} exited {code}: {stderr}{stdout}");
        return JsonNode.Parse(stdout)!;
    }

    [Fact]
    public async Task Runs_are_listed_shown_approved_with_edits_rejected_and_cancelled()
    {
        var approveMe = await WaitingRunAsync(11);
        var rejectMe = await WaitingRunAsync(12);
        var cancelMe = await WaitingRunAsync(13);

        var waiting = await JsonAsync("runs", "list", "--status", "awaiting_approval");
        Assert.Equal(3, waiting["runs"]!.AsArray().Count);
        var (code, text, _) = await MulanProcess.RunAsync(["runs", "show", approveMe], _env);
        Assert.Equal(0, code);
        Assert.Contains("waits for approval of delete_customer", text);
        Assert.Contains("awaiting_approval", text);

        var approved = await JsonAsync("runs", "approve", approveMe, "--arguments", "{\"id\":111}");
        Assert.Equal("running", approved["status"]!.GetValue<string>());
        await AssistantTestKit.WaitAsync(_host.Admin, approveMe, "succeeded");
        Assert.Contains("DELETE /customers/111", _orders.Log);

        var rejected = await JsonAsync("runs", "reject", rejectMe, "--reason", "not this one");
        Assert.Equal("running", rejected["status"]!.GetValue<string>());
        await AssistantTestKit.WaitAsync(_host.Admin, rejectMe, "succeeded");
        Assert.DoesNotContain("DELETE /customers/12", _orders.Log);

        var cancelled = await JsonAsync("runs", "cancel", cancelMe);
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());

        // A decision on a run that waits for none: exit 1 and the server's reason.
        var (again, _, error) = await MulanProcess.RunAsync(["runs", "approve", cancelMe], _env);
        Assert.Equal(1, again);
        Assert.Contains("not awaiting approval", error);
        var (bad, _, badError) = await MulanProcess.RunAsync(["runs", "approve", approveMe, "--arguments", "[1]"], _env);
        Assert.Equal(1, bad);
        Assert.Contains("--arguments", badError);
    }
}
