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
    public override async Task<int> ExecuteAsync(CommandContext context, ClientSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var list = await api.GetAsync("api/workspaces", ct);
        if (s.Json)
        {
            Console.WriteLine(list.ToJsonString());
            return 0;
        }
        var table = new Table().AddColumns("id", "name", "created");
        foreach (var w in list["workspaces"]!.AsArray().OfType<JsonObject>())
        {
            table.AddRow(KeysListCommand.Cell(w["id"]), KeysListCommand.Cell(w["name"]), KeysListCommand.Cell(w["createdAt"]));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
