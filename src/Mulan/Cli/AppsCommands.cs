using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>Options of the verbs that name an app: its slug (or id), resolved in <c>--workspace</c>.</summary>
public class AppSettings : ClientSettings
{
    [CommandArgument(0, "<SLUG>")]
    [Description("The app's slug or id.")]
    public string Slug { get; init; } = "";

    [CommandOption("--workspace <WORKSPACE>")]
    [Description("The workspace (id or name) a slug is looked up in. Default: the one workspace with an app of that slug.")]
    public string? Workspace { get; init; }

    internal string Path(string rest = "", params (string Name, string? Value)[] query) =>
        MulanApiClient.WithQuery($"api/apps/{Uri.EscapeDataString(Slug)}{rest}", [.. query, ("workspace", Workspace)]);

    /// <summary>The server's answer as JSON with <c>--json</c>, else one line for people.</summary>
    internal static int Report(ClientSettings s, JsonNode answer, string line)
    {
        if (s.Json)
        {
            JsonTables.Print(answer);
        }
        else
        {
            System.Console.WriteLine(line);
        }
        return 0;
    }

    /// <summary>One line about an app: slug, latest and published version.</summary>
    internal static string Describe(JsonNode app) =>
        $"{app["slug"]} ({app["id"]}): version {app["version"]}, " + (app["publishedVersion"] is { } p ? $"version {p} published" : "not published");
}

public sealed class AppsCreateCommand : AsyncCommand<AppsCreateCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("-f|--file <FILE>")]
        [Description("The app definition (JSON). With --template, its properties replace the template's.")]
        public string? File { get; init; }

        [CommandOption("--workspace <WORKSPACE>")]
        [Description("Workspace id or name. Default: the 'default' workspace.")]
        public string? Workspace { get; init; }

        [CommandOption("--template <NAME>")]
        [Description("Start from a built-in template (GET /api/app-templates lists them).")]
        public string? Template { get; init; }

        [CommandOption("--language <LANGUAGE>")]
        [Description("The template's language: zh-Hans, zh-Hant or en (default en).")]
        public string? Language { get; init; }

        [CommandOption("--map-model <OLD=NEW>")]
        [Description("Use the route NEW where the definition names OLD (a template's placeholder 'chat'). Repeatable.")]
        public string[] MapModel { get; init; } = [];

        [CommandOption("--map-kb <OLD=NEW>")]
        [Description("Use the knowledge base NEW where the definition names OLD (a template's placeholder). Repeatable.")]
        public string[] MapKnowledgeBase { get; init; } = [];

        public override ValidationResult Validate()
        {
            foreach (var (option, values) in new[] { ("--map-model", MapModel), ("--map-kb", MapKnowledgeBase) })
            {
                if (values.FirstOrDefault(v => AppsImportCommand.Settings.Split(v) is null) is { } bad)
                {
                    return ValidationResult.Error($"{option}: '{bad}' is not like OLD=NEW");
                }
            }
            if (File is null && Template is null)
            {
                return ValidationResult.Error("-f: give the definition file, or --template NAME");
            }
            if (Language is not null && Template is null)
            {
                return ValidationResult.Error("--language: only with --template");
            }
            return File is not null && !System.IO.File.Exists(File) ? ValidationResult.Error($"-f: '{File}' does not exist") : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var definition = new JsonObject();
        if (s.Template is not null)
        {
            definition = (await api.GetAsync(MulanApiClient.WithQuery($"api/app-templates/{Uri.EscapeDataString(s.Template)}", ("language", s.Language)), ct)).AsObject();
        }
        if (s.File is not null)
        {
            foreach (var (name, value) in ReadObject(s.File))
            {
                definition[name] = value?.DeepClone();
            }
        }
        foreach (var (from, to) in s.MapModel.Select(m => AppsImportCommand.Settings.Split(m)!.Value))
        {
            if (definition["model"]?.ToString() == from)
            {
                definition["model"] = to;
            }
        }
        if (definition["knowledgeBases"] is JsonArray bases)
        {
            var mapped = s.MapKnowledgeBase.Select(m => AppsImportCommand.Settings.Split(m)!.Value).ToDictionary(m => m.Old, m => m.New, StringComparer.Ordinal);
            definition["knowledgeBases"] = new JsonArray([.. bases.Select(b => (JsonNode?)(b is JsonValue v && v.TryGetValue<string>(out var name) && mapped.TryGetValue(name, out var to)
                ? JsonValue.Create(to) : b?.DeepClone()))]);
        }
        if (s.Workspace is not null)
        {
            definition["workspace"] = s.Workspace;
        }
        var created = await api.SendJsonAsync(HttpMethod.Post, "api/apps", definition, ct);
        return AppSettings.Report(s, created, $"Created app {AppSettings.Describe(created)}.");
    }

    internal static JsonObject ReadObject(string file)
    {
        try
        {
            return JsonNode.Parse(System.IO.File.ReadAllText(file)) as JsonObject ?? throw new CliUserException($"-f: '{file}' does not hold a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CliUserException($"-f: '{file}' is not valid JSON: {e.Message}");
        }
    }
}

public sealed class AppsUpdateCommand : AsyncCommand<AppsUpdateCommand.Settings>
{
    public sealed class Settings : AppSettings
    {
        [CommandOption("-f|--file <FILE>")]
        [Description("The whole changed definition (JSON); the slug and kind stay the app's.")]
        public string File { get; init; } = "";

        [CommandOption("--note <TEXT>")]
        [Description("What changed, kept with the version (at most 500 characters).")]
        public string? Note { get; init; }

        public override ValidationResult Validate() => System.IO.File.Exists(File)
            ? ValidationResult.Success()
            : ValidationResult.Error(File.Length == 0 ? "-f: give the changed definition file" : $"-f: '{File}' does not exist");
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var definition = AppsCreateCommand.ReadObject(s.File);
        definition.Remove("workspace");
        if (s.Note is not null)
        {
            definition["note"] = s.Note;
        }
        var updated = await api.SendJsonAsync(HttpMethod.Put, s.Path(), definition, ct);
        return AppSettings.Report(s, updated, $"Updated app {AppSettings.Describe(updated)}; publish it to serve the new version.");
    }
}

public sealed class AppsListCommand : AsyncCommand<AppsListCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("--workspace <WORKSPACE>")]
        [Description("Only this workspace's apps (id or name). Default: every workspace.")]
        public string? Workspace { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, MulanApiClient.WithQuery("api/apps", ("workspace", s.Workspace)), "apps", ct, ("id", "id"), ("slug", "slug"), ("name", "name"),
            ("kind", "kind"), ("workspace", "workspace"), ("version", "version"), ("published", "publishedVersion"), ("updated", "updatedAt"));
}

public sealed class AppsShowCommand : AsyncCommand<AppsShowCommand.Settings>
{
    public sealed class Settings : AppSettings
    {
        [CommandOption("--version <N>")]
        [Description("A version's definition. Default: the latest.")]
        public int? Version { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var shown = await api.GetAsync(s.Version is { } v ? s.Path($"/versions/{v}") : s.Path(), ct);
        if (s.Json)
        {
            JsonTables.Print(shown);
            return 0;
        }
        var table = new Table().AddColumns("field", "value").HideHeaders();
        foreach (var (name, value) in shown.AsObject().Where(p => p.Key != "definition"))
        {
            table.AddRow(Markup.Escape(name), JsonTables.Cell(value));
        }
        AnsiConsole.Write(table);
        if (shown["definition"] is { } definition)
        {
            System.Console.Out.WriteLine(definition.ToJsonString(Indented));
        }
        return 0;
    }

    private static readonly System.Text.Json.JsonSerializerOptions Indented = new()
    {
        WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

public sealed class AppsPublishCommand : AsyncCommand<AppsPublishCommand.Settings>
{
    public sealed class Settings : AppSettings
    {
        [CommandOption("--version <N>")]
        [Description("The version to publish. Default: the latest.")]
        public int? Version { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var app = await api.SendJsonAsync(HttpMethod.Post, s.Path("/publish"), s.Version is { } v ? new JsonObject { ["version"] = v } : new JsonObject(), ct);
        return AppSettings.Report(s, app, $"Published {AppSettings.Describe(app)}.");
    }
}

public sealed class AppsRollbackCommand : AsyncCommand<AppsRollbackCommand.Settings>
{
    public sealed class Settings : AppSettings
    {
        [CommandOption("--version <N>")]
        [Description("The earlier version to publish again (required).")]
        public int? Version { get; init; }

        public override ValidationResult Validate() => Version is null ? ValidationResult.Error("--version: required") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var app = await api.SendJsonAsync(HttpMethod.Post, s.Path("/rollback"), new JsonObject { ["version"] = s.Version }, ct);
        return AppSettings.Report(s, app, $"Rolled back {AppSettings.Describe(app)}.");
    }
}

public sealed class AppsDiffCommand : AsyncCommand<AppsDiffCommand.Settings>
{
    public sealed class Settings : AppSettings
    {
        [CommandOption("--from <A>")]
        [Description("The older version (required).")]
        public int? From { get; init; }

        [CommandOption("--to <B>")]
        [Description("The newer version (required).")]
        public int? To { get; init; }

        public override ValidationResult Validate() =>
            From is null || To is null ? ValidationResult.Error("--from and --to: both required") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var diff = await api.GetAsync(s.Path("/diff", ("from", s.From!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("to", s.To!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))), ct);
        if (s.Json)
        {
            JsonTables.Print(diff);
            return 0;
        }
        var changes = diff["changes"]!.AsArray().OfType<JsonObject>().ToList();
        if (changes.Count == 0)
        {
            System.Console.WriteLine($"Versions {s.From} and {s.To} are the same.");
            return 0;
        }
        var table = new Table().AddColumns("path", $"version {s.From}", $"version {s.To}");
        foreach (var c in changes)
        {
            table.AddRow(JsonTables.Cell(c["path"]), JsonTables.Cell(c["before"]), JsonTables.Cell(c["after"]));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
