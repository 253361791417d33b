using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan audit</c>: administrative changes, newest first, filtered and paged.</summary>
public sealed class AuditCommand : AsyncCommand<AuditCommand.Settings>
{
    public sealed class Settings : TimeRangeSettings
    {
        [CommandOption("--workspace <WORKSPACE>")]
        public string? Workspace { get; init; }

        [CommandOption("--action <ACTION>")]
        [Description("One action, such as key.created, key.rotated or workspace.deleted.")]
        public string? Action { get; init; }

    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var result = await api.GetAsync(MulanApiClient.WithQuery("api/audit", ("workspace", s.Workspace), ("action", s.Action), ("from", s.From), ("to", s.To),
            ("page", s.Page?.ToString(CultureInfo.InvariantCulture)), ("pageSize", s.PageSize?.ToString(CultureInfo.InvariantCulture))), ct);
        if (s.Json)
        {
            JsonTables.Print(result);
            return 0;
        }
        var table = new Table().AddColumns("time (UTC)", "actor", "action", "target", "workspace", "details");
        foreach (var e in result["entries"]!.AsArray().OfType<JsonObject>())
        {
            var at = e["at"]!.GetValue<DateTimeOffset>().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            table.AddRow(at, JsonTables.Cell(e["actor"]), JsonTables.Cell(e["action"]), Markup.Escape($"{e["targetType"]} {e["targetId"]}"),
                JsonTables.Cell(e["workspace"]), JsonTables.Cell(e["details"]));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"Page {result["page"]} ({result["entries"]!.AsArray().Count} of {result["count"]} entries)."));
        return 0;
    }
}
