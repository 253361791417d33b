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
        if (s.Json)
        {
            JsonTables.Print(created);
        }
        else
        {
            System.Console.WriteLine($"Created workspace {created["name"]} ({created["id"]}).");
        }
        return 0;
    }
}

public sealed class WorkspacesListCommand : AsyncCommand<ClientSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ClientSettings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, "api/workspaces", "workspaces", ct, ("id", "id"), ("name", "name"), ("created", "createdAt"));
}

public sealed class WorkspacesRenameCommand : AsyncCommand<WorkspacesRenameCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<ID|NAME>")]
        public string Workspace { get; init; } = "";

        [CommandArgument(1, "<NEW_NAME>")]
        public string NewName { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var renamed = await api.SendJsonAsync(HttpMethod.Patch, $"api/workspaces/{Uri.EscapeDataString(s.Workspace)}", new JsonObject { ["name"] = s.NewName }, ct);
        if (s.Json)
        {
            JsonTables.Print(renamed);
        }
        else
        {
            System.Console.WriteLine($"Renamed workspace {s.Workspace} to {renamed["name"]} ({renamed["id"]}).");
        }
        return 0;
    }
}

/// <summary><c>mulan workspaces delete ID|NAME [--force]</c>: refused while it holds keys or knowledge bases, unless forced.</summary>
public sealed class WorkspacesDeleteCommand : AsyncCommand<WorkspacesDeleteCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<ID|NAME>")]
        public string Workspace { get; init; } = "";

        [CommandOption("--force")]
        [Description("Also revoke its keys and delete its knowledge bases. Its usage records are kept.")]
        public bool Force { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var deleted = await api.DeleteAsync(MulanApiClient.WithQuery($"api/workspaces/{Uri.EscapeDataString(s.Workspace)}", ("force", s.Force ? "true" : null)), ct);
        if (s.Json)
        {
            JsonTables.Print(deleted);
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape($"Deleted workspace {deleted["name"]} ({deleted["id"]}): revoked {deleted["revokedKeys"]!.AsArray().Count} key(s), " +
                $"deleted {deleted["deletedKnowledgeBases"]!.AsArray().Count} knowledge base(s). Its usage records are kept."));
        }
        return 0;
    }
}
