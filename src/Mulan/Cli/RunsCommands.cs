using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>Options of the verbs that name a run.</summary>
public class RunSettings : ClientSettings
{
    [CommandArgument(0, "<RUN>")]
    [Description("The run's id (run_...).")]
    public string Id { get; init; } = "";

    internal string Path(string rest = "") => $"api/runs/{Uri.EscapeDataString(Id)}{rest}";

    /// <summary>One line about a run: id, status, steps, cost, and the call it waits on.</summary>
    internal static string Describe(JsonNode run)
    {
        var line = $"{run["id"]}: {run["status"]}, {run["stepCount"]} steps, cost {run["cost"]?["amount"]} {run["cost"]?["currency"]}".TrimEnd();
        if (run["pendingApproval"] is { } p)
        {
            line += $"; waits for approval of {p["tool"]} {p["arguments"]?.ToJsonString()} (expires {p["expiresAt"]})";
        }
        if (run["error"] is { } e)
        {
            line += $"; {e}";
        }
        return line;
    }
}

public sealed class RunsListCommand : AsyncCommand<RunsListCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("--app <SLUG>")]
        [Description("Only this app's runs (slug or id).")]
        public string? App { get; init; }

        [CommandOption("--status <STATUS>")]
        [Description("Only runs in this status: running, awaiting_approval, succeeded, failed, cancelled.")]
        public string? Status { get; init; }

        [CommandOption("--limit <N>")]
        [Description("At most this many, newest first (1-200, default 50).")]
        public int? Limit { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, MulanApiClient.WithQuery("api/runs", ("app", s.App), ("status", s.Status), ("limit", s.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            "runs", ct, ("id", "id"), ("app", "app"), ("status", "status"), ("origin", "origin"), ("steps", "stepCount"), ("cost", "cost"),
            ("created", "createdAt"));
}

public sealed class RunsShowCommand : AsyncCommand<RunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RunSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var run = await api.GetAsync(s.Path(), ct);
        if (s.Json)
        {
            JsonTables.Print(run);
            return 0;
        }
        System.Console.WriteLine(RunSettings.Describe(run));
        System.Console.WriteLine($"input: {run["input"]}");
        var table = new Table().AddColumns("#", "kind", "name", "status", "ms", "input", "output / error");
        foreach (var step in run["steps"]?.AsArray() ?? [])
        {
            table.AddRow(JsonTables.Cell(step!["seq"]), JsonTables.Cell(step["kind"]), JsonTables.Cell(step["name"]), JsonTables.Cell(step["status"]),
                JsonTables.Cell(step["durationMs"]), Markup.Escape(Short(step["input"])), Markup.Escape(Short(step["output"] ?? step["error"])));
        }
        AnsiConsole.Write(table);
        if (run["output"] is { } output)
        {
            System.Console.WriteLine();
            System.Console.WriteLine(output.ToString());
        }
        return 0;
    }

    private static string Short(JsonNode? node)
    {
        var text = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";
        text = text.ReplaceLineEndings(" ");
        return text.Length > 80 ? text[..80] + "…" : text;
    }
}

public sealed class RunsApproveCommand : AsyncCommand<RunsApproveCommand.Settings>
{
    public sealed class Settings : RunSettings
    {
        [CommandOption("--arguments <JSON>")]
        [Description("Run the call with these arguments instead (a JSON object); they must fit the tool.")]
        public string? Arguments { get; init; }

        public override ValidationResult Validate()
        {
            if (Arguments is null)
            {
                return ValidationResult.Success();
            }
            try
            {
                return JsonNode.Parse(Arguments) is JsonObject ? ValidationResult.Success() : ValidationResult.Error("--arguments: must be a JSON object");
            }
            catch (System.Text.Json.JsonException e)
            {
                return ValidationResult.Error($"--arguments: not valid JSON: {e.Message}");
            }
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var body = new JsonObject();
        if (s.Arguments is not null)
        {
            body["arguments"] = JsonNode.Parse(s.Arguments);
        }
        var run = await api.SendJsonAsync(HttpMethod.Post, s.Path("/approve"), body, ct);
        return AppSettings.Report(s, run, $"Approved; {RunSettings.Describe(run)}");
    }
}

public sealed class RunsRejectCommand : AsyncCommand<RunsRejectCommand.Settings>
{
    public sealed class Settings : RunSettings
    {
        [CommandOption("--reason <TEXT>")]
        [Description("Why, told to the assistant (at most 1,000 characters).")]
        public string? Reason { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var body = new JsonObject();
        if (s.Reason is not null)
        {
            body["reason"] = s.Reason;
        }
        var run = await api.SendJsonAsync(HttpMethod.Post, s.Path("/reject"), body, ct);
        return AppSettings.Report(s, run, $"Rejected; {RunSettings.Describe(run)}");
    }
}

public sealed class RunsCancelCommand : AsyncCommand<RunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RunSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var run = await api.SendJsonAsync(HttpMethod.Post, s.Path("/cancel"), new JsonObject(), ct);
        return AppSettings.Report(s, run, $"Cancelled; {RunSettings.Describe(run)}");
    }
}
