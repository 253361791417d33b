using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Evaluations;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>
/// <c>mulan pilot bakeoff PILOT</c>: lists the pilot's bake-offs as ranked tables; with <c>--title</c> and <c>--run</c>s
/// it records a new one (the runs' cost then counts in the pilot's ledger), with <c>--remove</c> it deletes one.
/// </summary>
public sealed class PilotBakeoffCommand : AsyncCommand<PilotBakeoffCommand.Settings>
{
    public sealed class Settings : PilotSettings
    {
        [CommandOption("--title <TITLE>")]
        [Description("What the bake-off decides, e.g. \"Which vendor for HR\".")]
        public string? Title { get; init; }

        [CommandOption("--run <RUN_ID>")]
        [Description("An evaluation run to compare (repeatable, 1 to 20).")]
        public string[] Runs { get; init; } = [];

        [CommandOption("--weight <METRIC=WEIGHT>")]
        [Description("A ranking weight, e.g. factRecall=0.6 (repeatable; default factRecall 0.6, cost 0.2, latencyP95Ms 0.2).")]
        public string[] Weights { get; init; } = [];

        [CommandOption("--remove <BAKEOFF_ID>")]
        [Description("Delete a bake-off.")]
        public string? Remove { get; init; }

        public override ValidationResult Validate() => PilotArgs.Check(() =>
        {
            if (Remove is not null && (Title is not null || Runs.Length > 0 || Weights.Length > 0))
            {
                throw new CliUserException("--remove: give it alone");
            }
            if ((Title is null) != (Runs.Length == 0) || (Title is null && Weights.Length > 0))
            {
                throw new CliUserException("--title and --run: give both to record a bake-off (or neither to list them)");
            }
            if (Runs.Length > 20)
            {
                throw new CliUserException("--run: at most 20 runs");
            }
            WeightsBody();
        });

        internal JsonObject? WeightsBody()
        {
            if (Weights.Length == 0)
            {
                return null;
            }
            var weights = new JsonObject();
            foreach (var w in Weights)
            {
                var parts = w.Split('=', 2);
                if (parts.Length != 2 || !EvaluationMetrics.IsKnown(parts[0]))
                {
                    throw new CliUserException($"--weight: '{w}' is not METRIC=WEIGHT with a metric among {string.Join(", ", EvaluationMetrics.All)}");
                }
                weights[parts[0]] = PilotArgs.Number("--weight", parts[1], 1000);
            }
            return weights;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await PilotArgs.ResolveAsync(api, s.Pilot, ct);
        if (s.Remove is { } remove)
        {
            await api.DeleteAsync(PilotArgs.Path(id, "/bakeoffs/" + Uri.EscapeDataString(remove)), ct);
            System.Console.WriteLine($"{remove}: deleted");
            return 0;
        }
        if (s.Title is { } title)
        {
            var body = new JsonObject { ["title"] = title, ["runs"] = new JsonArray([.. s.Runs.Select(r => (JsonNode)r)]) };
            if (s.WeightsBody() is { } weights)
            {
                body["weights"] = weights;
            }
            var created = (await api.PostAsync(PilotArgs.Path(id, "/bakeoffs"), body, ct)).AsObject();
            if (s.Json)
            {
                JsonTables.Print(created);
            }
            else
            {
                Print(created);
            }
            return 0;
        }
        var list = await api.GetAsync(PilotArgs.Path(id, "/bakeoffs"), ct);
        if (s.Json)
        {
            JsonTables.Print(list);
            return 0;
        }
        var bakeoffs = list["bakeoffs"] as JsonArray ?? [];
        if (bakeoffs.Count == 0)
        {
            System.Console.WriteLine($"{id}: no bake-offs");
        }
        foreach (var b in bakeoffs.OfType<JsonObject>())
        {
            Print(b);
        }
        return 0;
    }

    private static void Print(JsonObject b)
    {
        var table = new Table().Title(Markup.Escape($"{b["id"]}: {b["title"]}"));
        foreach (var column in new[] { "rank", "target", "score", "factRecall", "sourceHit", "latencyP95Ms", "cost / 1,000 q", "run" })
        {
            table.AddColumn(column);
        }
        foreach (var r in (b["rows"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var target = r["target"] as JsonObject;
            var label = target?["app"] is { } app ? "app " + app
                : target?["knowledgeBase"] is { } kb ? "kb " + kb + (target["model"] is { } m ? " + " + m : "")
                : target?["model"]?.ToString() ?? "";
            string Metric(string name) => r["metrics"]?[name] is JsonValue v && v.TryGetValue<double>(out var d)
                ? Math.Round(d, 4).ToString(CultureInfo.InvariantCulture) : "—";
            table.AddRow(Markup.Escape(r["rank"]?.ToString() ?? ""), Markup.Escape(label), Markup.Escape(r["score"]?.ToString() ?? ""),
                Metric("factRecall"), Metric("sourceHit"), Metric("latencyP95Ms"),
                Markup.Escape($"{PilotArgs.Amount(r["costPer1000Questions"])} {r["currency"]}"), Markup.Escape(r["run"]?.ToString() ?? ""));
        }
        AnsiConsole.Write(table);
        if (b["missing"] is JsonArray { Count: > 0 } missing)
        {
            System.Console.WriteLine("runs no longer there: " + string.Join(", ", missing.Select(m => m?.ToString())));
        }
    }
}
