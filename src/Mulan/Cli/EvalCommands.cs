using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Evaluations;
using Mulan.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan eval import FILE --name NAME</c>: a set from a file, or (<c>--set</c>) the file's items as a set's next version.</summary>
public sealed class EvalImportCommand : AsyncCommand<EvalImportCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("A .csv, .xlsx or .jsonl file of items (first row names the columns), or a .json array of items.")]
        public string File { get; init; } = "";

        [CommandOption("--name <NAME>")]
        [Description("The new set's name (required unless --set).")]
        public string? Name { get; init; }

        [CommandOption("--workspace <W>")]
        [Description("The set's workspace, id or name (required with the administrator key).")]
        public string? Workspace { get; init; }

        [CommandOption("--set <ID>")]
        [Description("Replace this set's items with the file's, as its next version.")]
        public string? Set { get; init; }

        public override ValidationResult Validate()
        {
            if (Set is null && string.IsNullOrWhiteSpace(Name))
            {
                return ValidationResult.Error("--name: required (or --set ID to add a version to a set)");
            }
            if (Set is not null && (Name is not null || Workspace is not null))
            {
                return ValidationResult.Error("--set: a new version keeps the set's name and workspace; leave out --name and --workspace");
            }
            return System.IO.File.Exists(File) ? ValidationResult.Success() : ValidationResult.Error($"{File}: no such file");
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var method = s.Set is null ? HttpMethod.Post : HttpMethod.Put;
        var path = s.Set is null ? "api/evaluations/sets" : $"api/evaluations/sets/{Uri.EscapeDataString(s.Set)}";
        JsonNode set;
        if (Path.GetExtension(s.File).Equals(".json", StringComparison.OrdinalIgnoreCase))
        {
            // A JSON array of items (or an object with "items") goes as the JSON body the endpoint takes.
            JsonNode? parsed;
            try
            {
                parsed = JsonNode.Parse(await System.IO.File.ReadAllTextAsync(s.File, ct));
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new CliUserException($"{s.File}: not valid JSON: {e.Message}");
            }
            var items = parsed is JsonObject o ? o["items"]?.DeepClone() : parsed?.DeepClone();
            if (items is not JsonArray)
            {
                throw new CliUserException($"{s.File}: must be a JSON array of items, or an object with \"items\"");
            }
            var body = new JsonObject { ["items"] = items };
            if (s.Set is null)
            {
                body["name"] = s.Name;
                if (s.Workspace is not null)
                {
                    body["workspace"] = s.Workspace;
                }
            }
            set = await api.SendJsonAsync(method, path, body, ct);
        }
        else
        {
            set = await api.SendFormAsync(method, path, "file", s.File, ct, ("name", s.Name), ("workspace", s.Workspace));
        }
        var count = set["items"] is JsonArray a ? a.Count.ToString(CultureInfo.InvariantCulture) : set["items"]?.ToString();
        return AppSettings.Report(s, set, $"{set["id"] ?? s.Set}: version {set["version"]}, {count} items");
    }
}

/// <summary><c>mulan eval run SET --app A | --model M | --knowledge-base KB [--model M]</c>: starts a run, follows it to its end, prints its metrics and checks the thresholds.</summary>
public sealed class EvalRunCommand : AsyncCommand<EvalRunCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<SET>")]
        [Description("The evaluation set's id.")]
        public string Set { get; init; } = "";

        [CommandOption("--version <N>")]
        [Description("The set version (default the latest).")]
        public int? Version { get; init; }

        [CommandOption("--app <SLUG_OR_ID>")]
        [Description("Evaluate this app.")]
        public string? App { get; init; }

        [CommandOption("--model <ROUTE>")]
        [Description("Evaluate this model route (with --knowledge-base: the route that writes its answers).")]
        public string? Model { get; init; }

        [CommandOption("--knowledge-base <ID_OR_NAME>")]
        [Description("Evaluate this knowledge base's ask: grounded by --model, or extractive without it.")]
        public string? KnowledgeBase { get; init; }

        [CommandOption("--judge <ROUTE>")]
        [Description("A model route that scores faithfulness and relevance.")]
        public string? Judge { get; init; }

        [CommandOption("--concurrency <N>")]
        [Description("Items at once (1-16, default 4).")]
        public int? Concurrency { get; init; }

        [CommandOption("--max-cost <AMOUNT>")]
        [Description("Stop the run before it could cost more.")]
        public decimal? MaxCost { get; init; }

        [CommandOption("--fail-under <METRIC=VALUE>")]
        [Description("Exit 3 when the metric is under VALUE (over it for latencyP50Ms, latencyP95Ms, cost). Repeatable.")]
        public string[] FailUnder { get; init; } = [];

        [CommandOption("--timeout <SECONDS>")]
        [Description("Give up waiting after this long (default 3600); the run goes on on the server.")]
        public int Timeout { get; init; } = 3600;

        public override ValidationResult Validate()
        {
            if (App is not null ? Model is not null || KnowledgeBase is not null : Model is null && KnowledgeBase is null)
            {
                return ValidationResult.Error("--app, --model or --knowledge-base: give one target (--model may go with --knowledge-base)");
            }
            try
            {
                _ = Thresholds(FailUnder);
            }
            catch (CliUserException e)
            {
                return ValidationResult.Error(e.Message);
            }
            return ValidationResult.Success();
        }
    }

    /// <summary>The <c>--fail-under</c> thresholds by metric; an unknown metric or a value that is not a number is a usage error.</summary>
    internal static List<(string Metric, double Value)> Thresholds(IEnumerable<string> given)
    {
        var list = new List<(string, double)>();
        foreach (var g in given)
        {
            var eq = g.IndexOf('=', StringComparison.Ordinal);
            var metric = eq > 0 ? g[..eq].Trim() : g;
            if (!EvaluationMetrics.IsKnown(metric))
            {
                throw new CliUserException($"--fail-under: unknown metric '{metric}' (known: {string.Join(", ", EvaluationMetrics.All)})");
            }
            if (eq < 0 || !double.TryParse(g[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw new CliUserException($"--fail-under: '{g}' must be METRIC=NUMBER");
            }
            list.Add((metric, value));
        }
        return list;
    }

    /// <summary>A metric of a run as a number (cost is an amount object); null when not measured.</summary>
    internal static double? Metric(JsonNode run, string metric) => run["metrics"]?[metric] switch
    {
        JsonObject o when o["amount"] is JsonValue v => v.GetValue<double>(),
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => null,
    };

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var thresholds = Thresholds(s.FailUnder);
        using var api = new MulanApiClient(s);
        var body = new JsonObject
        {
            ["set"] = s.Set,
            ["target"] = s.App is not null ? new JsonObject { ["app"] = s.App }
                : s.KnowledgeBase is not null ? new JsonObject { ["knowledgeBase"] = s.KnowledgeBase, ["model"] = s.Model }
                : new JsonObject { ["model"] = s.Model },
        };
        if (s.Version is { } version) { body["version"] = version; }
        if (s.Judge is not null) { body["judge"] = s.Judge; }
        if (s.Concurrency is { } c) { body["concurrency"] = c; }
        if (s.MaxCost is { } m) { body["maxCost"] = m; }
        var run = await api.SendJsonAsync(HttpMethod.Post, "api/evaluations/runs", body, ct);
        var id = run["id"]!.GetValue<string>();
        var path = $"api/evaluations/runs/{Uri.EscapeDataString(id)}";
        var deadline = DateTime.UtcNow.AddSeconds(s.Timeout);
        if (!s.Json && !System.Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress().StartAsync(async p =>
            {
                var task = p.AddTask(id, maxValue: Math.Max(1, Total(run)));
                while (Running(run) && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(500, ct);
                    run = await api.GetAsync(path, ct);
                    task.MaxValue = Math.Max(1, Total(run));
                    task.Value = Done(run);
                }
                task.Value = task.MaxValue;
            });
        }
        else
        {
            if (!s.Json) { System.Console.WriteLine($"{id}: started, {Total(run)} items"); }
            var last = -1;
            while (Running(run) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, ct);
                run = await api.GetAsync(path, ct);
                if (!s.Json && Done(run) != last && Running(run))
                {
                    last = Done(run);
                    System.Console.WriteLine($"{id}: {last}/{Total(run)} items");
                }
            }
        }
        if (Running(run))
        {
            throw new CliUserException($"{id}: still running after {s.Timeout} s (follow it with mulan eval show {id})");
        }
        if (s.Json)
        {
            JsonTables.Print(run);
        }
        else
        {
            EvalShowCommand.PrintRun(run);
        }
        if (run["status"]?.GetValue<string>() != "succeeded")
        {
            System.Console.Error.WriteLine($"error: {id} ended {run["status"]}{(run["reason"] is { } r ? ": " + r : "")}");
            return ExitCodes.SystemError;
        }
        var missed = new List<string>();
        foreach (var (metric, value) in thresholds)
        {
            var actual = Metric(run, metric);
            var lower = EvaluationMetrics.LowerIsBetter(metric);
            if (actual is not { } a || (lower ? a > value : a < value))
            {
                missed.Add($"{metric} {(actual is { } x ? x.ToString(CultureInfo.InvariantCulture) : "not measured")} {(lower ? "over" : "under")} {value.ToString(CultureInfo.InvariantCulture)}");
            }
        }
        if (missed.Count > 0)
        {
            System.Console.Error.WriteLine("error: threshold missed: " + string.Join("; ", missed));
            return ExitCodes.ThresholdMissed;
        }
        return ExitCodes.Success;
    }

    private static bool Running(JsonNode run) => run["status"]?.GetValue<string>() == "running";

    private static int Total(JsonNode run) => run["itemCount"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : 0;

    private static int Done(JsonNode run) => run["items"] is JsonArray a ? a.Count : 0;
}

public sealed class EvalShowCommand : AsyncCommand<EvalShowCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("The evaluation run's id (evr_...).")]
        public string Run { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var run = await api.GetAsync($"api/evaluations/runs/{Uri.EscapeDataString(s.Run)}", ct);
        if (s.Json)
        {
            JsonTables.Print(run);
            return 0;
        }
        PrintRun(run);
        return 0;
    }

    /// <summary>A run's status line and a table of its overall metrics.</summary>
    internal static void PrintRun(JsonNode run)
    {
        System.Console.WriteLine($"{run["id"]}: {run["status"]}{(run["reason"] is { } r ? " (" + r + ")" : "")}, set {run["set"] ?? run["setId"]} v{run["setVersion"]}, target {run["target"]?.ToJsonString()}");
        var table = new Table().AddColumns("metric", "value");
        foreach (var metric in EvaluationMetrics.All)
        {
            if (run["metrics"]?[metric] is { } value)
            {
                table.AddRow(metric, Markup.Escape(value is JsonObject o && o["amount"] is not null ? $"{o["amount"]} {o["currency"]}" : value.ToString()));
            }
        }
        AnsiConsole.Write(table);
    }
}

public sealed class EvalCompareCommand : AsyncCommand<EvalCompareCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<A>")]
        [Description("The first run (the baseline).")]
        public string A { get; init; } = "";

        [CommandArgument(1, "<B>")]
        [Description("The second run.")]
        public string B { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var cmp = await api.GetAsync(MulanApiClient.WithQuery("api/evaluations/compare", ("a", s.A), ("b", s.B)), ct);
        if (s.Json)
        {
            JsonTables.Print(cmp);
            return 0;
        }
        var table = new Table().AddColumns("metric", s.A, s.B, "verdict");
        foreach (var (metric, change) in cmp["metrics"] as JsonObject ?? [])
        {
            table.AddRow(Markup.Escape(metric), JsonTables.Cell(change?["a"]), JsonTables.Cell(change?["b"]), JsonTables.Cell(change?["verdict"]));
        }
        AnsiConsole.Write(table);
        if (cmp["summary"] is JsonObject summary)
        {
            System.Console.WriteLine("items: " + string.Join(", ", summary.Select(kv => $"{kv.Value} {kv.Key}")));
        }
        return 0;
    }
}
