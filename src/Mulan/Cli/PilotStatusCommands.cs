using System.ComponentModel;
using System.Text.Json.Nodes;
using Mulan.Pilots;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan pilot status PILOT</c>: the ledger (cost to date, contract, margin, burn, forecast), alerts, and each scope item's acceptance.</summary>
public sealed class PilotStatusCommand : AsyncCommand<PilotSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, PilotSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        var ledger = await api.GetAsync(PilotArgs.Path(id, "/ledger"), ct);
        // The report's JSON is where acceptance is judged; the ledger endpoint does not judge it.
        var report = await api.GetAsync(PilotArgs.Path(id, "/report?format=json"), ct);
        if (s.Json)
        {
            JsonTables.Print(new JsonObject
            {
                ["pilot"] = report["summary"]?.DeepClone(),
                ["ledger"] = ledger["ledger"]?.DeepClone(),
                ["alerts"] = ledger["alerts"]?.DeepClone(),
                ["acceptance"] = report["acceptance"]?.DeepClone(),
            });
            return 0;
        }
        var p = report["summary"]!;
        var l = ledger["ledger"]!;
        var c = Markup.Escape(l["currency"]?.ToString() ?? "");
        System.Console.WriteLine($"{id}: {p["name"]} for {p["customer"]}, {p["status"]}, {p["start"]} – {p["end"]} (day {l["elapsedDays"]} of {l["totalDays"]}), scope " +
            (report["scope"]?["frozenAt"] is JsonValue at ? $"frozen at {at}" : "not frozen"));
        var figures = new Table().AddColumns("figure", $"amount ({c})", "");
        figures.AddRow("contract value", PilotArgs.Amount(l["contractValue"]), "");
        figures.AddRow("budget", PilotArgs.Amount(l["budget"]), l["budgetUsed"] is null ? "" : PilotArgs.Percent(l["budgetUsed"]) + " used by spend");
        figures.AddRow("effort", PilotArgs.Amount(l["effort"]), $"{PilotArgs.Amount(l["effortDays"])} person-days");
        figures.AddRow("model and tool spend", PilotArgs.Amount(l["spend"]), $"{l["requests"]} requests");
        figures.AddRow("cost to date", PilotArgs.Amount(l["costToDate"]), PilotArgs.Percent(l["contractUsed"]) + " of the contract");
        figures.AddRow("margin", PilotArgs.Amount(l["margin"]), PilotArgs.Percent(l["marginRatio"]));
        figures.AddRow("burn per day", PilotArgs.Amount(l["burnRatePerDay"], 2), "rounded");
        figures.AddRow("forecast at the end", PilotArgs.Amount(l["forecast"], 2), "rounded");
        AnsiConsole.Write(figures);
        foreach (var u in (l["unconverted"] as JsonArray ?? []).OfType<JsonObject>())
        {
            System.Console.WriteLine($"left out (no exchange rate to {l["currency"]}): {u["source"]} {PilotArgs.Amount(u["amount"])} {u["currency"]} on {u["day"]}");
        }
        if (ledger["alerts"] is JsonArray { Count: > 0 } alerts)
        {
            var table = new Table().AddColumns("alert", "threshold", "reached", "at", "delivery");
            foreach (var a in alerts.OfType<JsonObject>())
            {
                table.AddRow(JsonTables.Cell(a["kind"]), PilotArgs.Percent(a["threshold"]), PilotArgs.Percent(a["ratio"]), JsonTables.Cell(a["at"]), JsonTables.Cell(a["delivery"]));
            }
            AnsiConsole.Write(table);
        }
        else
        {
            System.Console.WriteLine("alerts: none");
        }
        var acceptance = new Table().AddColumns("item", "title", "priority", "acceptance", "criteria");
        foreach (var item in (report["acceptance"]?["items"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var criteria = (item["criteria"] as JsonArray ?? []).Select(r =>
                $"{PilotArgs.Describe(r)}: {r?["status"]}" + (r?["value"] is { } v ? $" ({v}, run {r["runId"]})" : ""));
            acceptance.AddRow(JsonTables.Cell(item["itemId"]), JsonTables.Cell(item["title"]), JsonTables.Cell(item["priority"]), JsonTables.Cell(item["status"]),
                Markup.Escape(string.Join("\n", criteria)));
        }
        AnsiConsole.Write(acceptance);
        return 0;
    }
}

/// <summary><c>mulan pilot report PILOT</c>: the report as HTML, Markdown or JSON, in a language, to a file or to stdout.</summary>
public sealed class PilotReportCommand : AsyncCommand<PilotReportCommand.Settings>
{
    public sealed class Settings : PilotSettings
    {
        [CommandOption("--format <FORMAT>")]
        [Description("html, md or json (default from --out's extension, else md).")]
        public string? Format { get; init; }

        [CommandOption("--lang <LANG>")]
        [Description("zh-Hans, zh-Hant or en (default en).")]
        public string? Lang { get; init; }

        [CommandOption("-o|--out <FILE>")]
        [Description("Write the report to this file (replaced whole, never half-written). Without it: stdout.")]
        public string? Out { get; init; }

        internal string ResolvedFormat => Format ?? System.IO.Path.GetExtension(Out ?? "").ToLowerInvariant() switch
        {
            ".html" or ".htm" => "html",
            ".json" => "json",
            _ => "md",
        };

        public override ValidationResult Validate() => PilotArgs.Check(() =>
        {
            PilotArgs.OneOf("--format", ResolvedFormat, ["html", "md", "json"]);
            if (Lang is not null)
            {
                PilotArgs.OneOf("--lang", Lang, PilotReport.Languages.ToList());
            }
            if (Out is null && Json)
            {
                throw new CliUserException("--json: prints where the report was written; give --out FILE (or --format json to print the report itself)");
            }
            if (Out is not null && System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Out)) is { } dir && !Directory.Exists(dir))
            {
                throw new CliUserException($"--out: no folder {dir}");
            }
        });
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        var path = MulanApiClient.WithQuery(PilotArgs.Path(id, "/report"), ("format", s.ResolvedFormat), ("lang", s.Lang));
        if (s.Out is null)
        {
            await using var stdout = System.Console.OpenStandardOutput();
            await api.DownloadAsync(path, stdout, ct);
            return 0;
        }
        var target = System.IO.Path.GetFullPath(s.Out);
        // Written beside the target and moved over it: a failed download leaves the old file, not half a report.
        var temp = target + ".part";
        try
        {
            await using (var file = File.Create(temp))
            {
                await api.DownloadAsync(path, file, ct);
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        var bytes = new FileInfo(target).Length;
        return AppSettings.Report(s, new JsonObject { ["file"] = target, ["format"] = s.ResolvedFormat, ["lang"] = s.Lang ?? "en", ["bytes"] = bytes },
            $"{id}: {s.ResolvedFormat} report written to {target} ({bytes} bytes)");
    }
}

/// <summary><c>mulan pilot signoff PILOT --side customer|vendor --name NAME</c>: signs the report as it is now; alone, lists the signatures.</summary>
public sealed class PilotSignoffCommand : AsyncCommand<PilotSignoffCommand.Settings>
{
    public sealed class Settings : PilotSettings
    {
        [CommandOption("--side <SIDE>")]
        [Description("customer or vendor.")]
        public string? Side { get; init; }

        [CommandOption("--name <NAME>")]
        [Description("Who signs.")]
        public string? Name { get; init; }

        public override ValidationResult Validate() => PilotArgs.Check(() =>
        {
            if (Side is not null)
            {
                PilotArgs.OneOf("--side", Side, ["customer", "vendor"]);
            }
            if ((Side is null) != (Name is null))
            {
                throw new CliUserException(Side is null ? "--side: required with --name (customer or vendor)" : "--name: required with --side (who signs)");
            }
        });
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        if (s.Side is not null)
        {
            var signed = await api.SendJsonAsync(HttpMethod.Post, PilotArgs.Path(id, "/signoff"), new JsonObject { ["side"] = s.Side, ["name"] = s.Name }, ct);
            return AppSettings.Report(s, signed, $"{id}: signed by {signed["name"]} for the {signed["side"]} at {signed["at"]}, report SHA-256 {signed["sha256"]}");
        }
        var list = await api.GetAsync(PilotArgs.Path(id, "/signoff"), ct);
        if (s.Json)
        {
            JsonTables.Print(list);
            return 0;
        }
        var table = new Table().AddColumns("side", "name", "at", "sha256");
        foreach (var sig in (list["signoffs"] as JsonArray ?? []).OfType<JsonObject>())
        {
            table.AddRow(JsonTables.Cell(sig["side"]), JsonTables.Cell(sig["name"]), JsonTables.Cell(sig["at"]), JsonTables.Cell(sig["sha256"]));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
