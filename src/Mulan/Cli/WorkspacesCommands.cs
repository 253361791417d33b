using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

public sealed class WorkspacesCreateCommand : AsyncCommand<WorkspacesCreateCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The workspace's name.")]
        public string Name { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var created = await api.PostAsync("api/workspaces", new { name = s.Name }, ct);
        Console.WriteLine(s.Json ? created.ToJsonString() : $"Created workspace {created["name"]} ({created["id"]}).");
        return 0;
    }
}

public sealed class WorkspacesListCommand : AsyncCommand<ClientSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ClientSettings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, "api/workspaces", "workspaces", ct, ("id", "id"), ("name", "name"), ("created", "createdAt"));
}
