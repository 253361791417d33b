using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Mulan.FakeMcp;

/// <summary>An order desk: two read-only tools, one that changes something, and one that always fails.</summary>
[McpServerToolType]
public sealed class FakeMcpTools
{
    [McpServerTool(Name = "lookup_order", ReadOnly = true), Description("Looks an order up by its id.")]
    public static string LookupOrder([Description("the order id")] string id) => $"order {id}: shipped";

    [McpServerTool(Name = "list_orders", ReadOnly = true), Description("Lists the open orders.")]
    public static string ListOrders() => "A-1, A-2";

    [McpServerTool(Name = "create_ticket", ReadOnly = false, Destructive = false), Description("Opens a support ticket.")]
    public static string CreateTicket([Description("what the ticket is about")] string subject) => $"ticket opened: {subject}";

    [McpServerTool(Name = "always_fails", ReadOnly = true), Description("Fails, for tests.")]
    public static string AlwaysFails() => throw new InvalidOperationException("the order desk is closed");

    [McpServerTool(Name = "environment", ReadOnly = true), Description("Whether an environment variable is set here, for tests.")]
    public static string Environment_([Description("the variable's name")] string name) => Environment.GetEnvironmentVariable(name) is null ? "unset" : "set";

    [McpServerTool(Name = "wait", ReadOnly = true), Description("Answers after some seconds, for tests.")]
    public static async Task<string> WaitAsync([Description("how long")] int seconds, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromSeconds(seconds), ct);
        return "done";
    }
}
