using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary><c>mulan models</c> (or <c>models list</c>): the routes, their deployments and the prices in force.</summary>
public sealed class ModelsListCommand : AsyncCommand<ClientSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClientSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var list = await api.GetAsync("api/models", ct);
        if (s.Json)
        {
            JsonTables.Print(list);
            return 0;
        }
        var table = new Table().AddColumns("name", "strategy", "deployments (provider/model: input/output per 1M tokens)", "source");
        foreach (var m in list["models"]!.AsArray().OfType<JsonObject>())
        {
            var deployments = m["deployments"]!.AsArray().OfType<JsonObject>().Select(d =>
            {
                var p = d["priceNow"]!;
                return $"{d["provider"]}/{d["model"]}: {p["input"]}/{p["output"]} {p["currency"]}" + (d["enabled"]!.GetValue<bool>() ? "" : " (disabled)");
            });
            table.AddRow(JsonTables.Cell(m["name"]), JsonTables.Cell(m["strategy"]), Markup.Escape(string.Join("\n", deployments)), JsonTables.Cell(m["source"]));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

/// <summary><c>mulan models add NAME --provider P --model M --input X --output Y --currency C</c> (one deployment), or <c>-f FILE</c>:
/// one model definition, a list of them, or a configuration file's <c>{"models": [...]}</c>. Prints <c>{"models": [...]}</c>.</summary>
public sealed class ModelsAddCommand : AsyncCommand<ModelsAddCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "[NAME]")]
        [Description("The route's name, as clients send it in 'model'.")]
        public string? Name { get; init; }

        [CommandOption("-f|--file <FILE>")]
        [Description("A JSON file: one model, a list of models, or a configuration file with \"models\".")]
        public string? File { get; init; }

        [CommandOption("--provider <PROVIDER>")]
        public string? Provider { get; init; }

        [CommandOption("--model <VENDOR_MODEL>")]
        [Description("The vendor's model name.")]
        public string? Model { get; init; }

        [CommandOption("--input <PRICE>")]
        [Description("Price per one million input tokens.")]
        public decimal? Input { get; init; }

        [CommandOption("--output <PRICE>")]
        [Description("Price per one million output tokens.")]
        public decimal? Output { get; init; }

        [CommandOption("--currency <CURRENCY>")]
        [Description("CNY or USD.")]
        public string? Currency { get; init; }

        [CommandOption("--strategy <STRATEGY>")]
        [Description("priority (default), weighted, lowest-latency or lowest-cost.")]
        public string? Strategy { get; init; }

        public override ValidationResult Validate()
        {
            if (File is not null)
            {
                return Name is null && Provider is null && Model is null ? ValidationResult.Success()
                    : ValidationResult.Error("-f: give either a file or NAME with --provider and --model, not both");
            }
            var missing = new[] { (Name is null, "NAME"), (Provider is null, "--provider"), (Model is null, "--model"), (Input is null, "--input"),
                (Output is null, "--output"), (Currency is null, "--currency") }.Where(m => m.Item1).Select(m => m.Item2).ToList();
            return missing.Count > 0 ? ValidationResult.Error($"{string.Join(", ", missing)}: required (or give -f FILE)") : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var models = s.File is null ? [FromFlags(s)] : FromFile(s.File);
        using var api = new MulanApiClient(s);
        var created = new JsonArray();
        foreach (var model in models)
        {
            try
            {
                created.Add(await api.SendJsonAsync(HttpMethod.Post, "api/models", model, ct));
            }
            catch (CliUserException e) when (created.Count > 0)
            {
                throw new CliUserException($"model '{model["name"]}': {e.Message} (added before it: {string.Join(", ", created.Select(c => c!["name"]))})", e.Status);
            }
        }
        if (s.Json)
        {
            JsonTables.Print(new JsonObject { ["models"] = created });
        }
        else
        {
            foreach (var m in created)
            {
                System.Console.WriteLine($"Added model {m!["name"]} ({m["deployments"]!.AsArray().Count} deployment(s), {m["strategy"]}).");
            }
        }
        return 0;
    }

    private static JsonObject FromFlags(Settings s)
    {
        var model = new JsonObject
        {
            ["name"] = s.Name,
            ["deployments"] = new JsonArray(new JsonObject
            {
                ["provider"] = s.Provider,
                ["model"] = s.Model,
                ["price"] = new JsonObject { ["currency"] = s.Currency!.ToUpperInvariant(), ["input"] = s.Input, ["output"] = s.Output },
            }),
        };
        if (s.Strategy is not null)
        {
            model["strategy"] = s.Strategy;
        }
        return model;
    }

    private static List<JsonObject> FromFile(string path)
    {
        var node = JsonFile.Read(path);
        var list = node is JsonObject { } o && o["models"] is JsonArray inner ? inner : node as JsonArray;
        if (list is null)
        {
            return node is JsonObject single ? [single] : throw new CliUserException($"--file: '{path}' must hold a model, a list of models or {{\"models\": [...]}}");
        }
        var models = list.OfType<JsonObject>().ToList();
        return models.Count == list.Count && models.Count > 0 ? [.. models.Select(m => (JsonObject)m.DeepClone())]
            : throw new CliUserException($"--file: '{path}': the list must hold one or more model objects");
    }
}

public sealed class ModelsRemoveCommand : AsyncCommand<NameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NameSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        await api.DeleteAsync($"api/models/{Uri.EscapeDataString(s.Name)}", ct);
        if (s.Json)
        {
            JsonTables.Print(new JsonObject { ["name"] = s.Name, ["removed"] = true });
        }
        else
        {
            System.Console.WriteLine($"Removed model {s.Name}.");
        }
        return 0;
    }
}

/// <summary><c>mulan models test NAME</c>: one cheap real call per deployment through the server (metered). Exit 1 when one failed.</summary>
public sealed class ModelsTestCommand : AsyncCommand<ModelsTestCommand.Settings>
{
    public sealed class Settings : NameSettings
    {
        [CommandOption("--endpoint <ENDPOINT>")]
        [Description("chat or embeddings. Default: embeddings when the route or a deployment is named like one, else chat.")]
        public string? Endpoint { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var result = await api.SendJsonAsync(HttpMethod.Post,
            MulanApiClient.WithQuery($"api/models/{Uri.EscapeDataString(s.Name)}/test", ("endpoint", s.Endpoint)), null, ct);
        var deployments = result["deployments"]!.AsArray().OfType<JsonObject>().ToList();
        var failed = deployments.Count(d => !d["ok"]!.GetValue<bool>());
        if (s.Json)
        {
            JsonTables.Print(result);
        }
        else
        {
            var table = new Table().AddColumns("provider", "model", "result", "status", "latency (ms)", "reason");
            foreach (var d in deployments)
            {
                table.AddRow(JsonTables.Cell(d["provider"]), JsonTables.Cell(d["model"]), d["ok"]!.GetValue<bool>() ? "[green]ok[/]" : "[red]failed[/]",
                    JsonTables.Cell(d["status"]), d["latencyMs"]!.GetValue<double>().ToString("0", CultureInfo.InvariantCulture), JsonTables.Cell(d["error"]));
            }
            AnsiConsole.Write(table);
        }
        if (failed > 0)
        {
            // The result is printed; the exit code lets a script see that the model does not fully work.
            System.Console.Error.WriteLine($"{failed} of {deployments.Count} deployment(s) of '{s.Name}' failed.");
            return ExitCodeForFailures;
        }
        return 0;
    }

    /// <summary>A deployment does not work as configured (key, URL or vendor model): for the user to fix.</summary>
    private const int ExitCodeForFailures = 1;
}
