using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan usage</c>: totals and the latest records from the usage ledger.</summary>
public sealed class UsageCommand : AsyncCommand<UsageCommand.Settings>
{
    public sealed class Settings : TimeRangeSettings
    {
        [CommandOption("--key <ID>")]
        public string? Key { get; init; }

        [CommandOption("--workspace <WORKSPACE>")]
        public string? Workspace { get; init; }

        [CommandOption("--model <MODEL>")]
        public string? Model { get; init; }

        [CommandOption("--csv")]
        [Description("Export the records as CSV (every page, unless --page is given).")]
        public bool Csv { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("With --csv: write the CSV to FILE instead of stdout.")]
        public string? Output { get; init; }

        public override ValidationResult Validate() =>
            From is not null && !TryDate(From, out _) ? ValidationResult.Error($"--from: '{From}' is not an ISO 8601 date")
            : To is not null && !TryDate(To, out _) ? ValidationResult.Error($"--to: '{To}' is not an ISO 8601 date")
            : Output is not null && !Csv ? ValidationResult.Error("-o: only with --csv")
            : Csv && Json && Output is null ? ValidationResult.Error("--csv and --json: both would be printed on stdout; add -o FILE for the CSV")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var query = new List<string>();
        Add(query, "key", s.Key);
        Add(query, "workspace", s.Workspace);
        Add(query, "model", s.Model);
        Add(query, "from", s.From is null ? null : Date(s.From));
        Add(query, "to", s.To is null ? null : Date(s.To));
        Add(query, "page", s.Page?.ToString(CultureInfo.InvariantCulture));
        Add(query, "pageSize", s.PageSize?.ToString(CultureInfo.InvariantCulture));
        using var api = new MulanApiClient(s);
        if (s.Csv)
        {
            return await UsageCsv.ExportAsync(api, s, query, ct);
        }
        var result = await api.GetAsync("api/usage" + (query.Count > 0 ? "?" + string.Join("&", query) : ""), ct);
        if (s.Json)
        {
            JsonTables.Print(result);
            return 0;
        }
        var t = result["totals"]!;
        var costs = t["costs"]!.AsArray().OfType<JsonObject>().Select(c => $"{c["amount"]} {c["currency"]}").ToList();
        AnsiConsole.MarkupLine(Markup.Escape($"{t["requests"]} requests, {t["inputTokens"]} input tokens ({t["cachedTokens"]} cached), " +
            $"{t["outputTokens"]} output tokens, cost {(costs.Count == 0 ? "0" : string.Join(" + ", costs))}"));
        var table = new Table().AddColumns("time (UTC)", "request", "key", "model", "provider", "in", "out", "cost", "ms", "status", "usage");
        foreach (var r in result["records"]!.AsArray().OfType<JsonObject>())
        {
            var at = r["at"]!.GetValue<DateTimeOffset>().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            table.AddRow(at, JsonTables.Cell(r["requestId"]), JsonTables.Cell(r["key"]), JsonTables.Cell(r["model"]),
                JsonTables.Cell(r["provider"]), JsonTables.Cell(r["inputTokens"]), JsonTables.Cell(r["outputTokens"]),
                Markup.Escape($"{r["cost"]!["amount"]} {r["cost"]!["currency"]}"),
                r["latencyMs"]!.GetValue<double>().ToString("0", CultureInfo.InvariantCulture),
                JsonTables.Cell(r["status"]), JsonTables.Cell(r["usage"]));
        }
        AnsiConsole.Write(table);
        return 0;
    }

    private static void Add(List<string> query, string name, string? value)
    {
        if (value is not null)
        {
            query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
    }

    private static bool TryDate(string text, out DateTimeOffset at) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at);

    private static string Date(string text) => TryDate(text, out var at) ? at.ToString("O", CultureInfo.InvariantCulture) : text;
}
