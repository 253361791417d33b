using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Apps.Packages;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

public sealed class AppsExportCommand : AsyncCommand<AppsExportCommand.Settings>
{
    public sealed class Settings : AppSettings
    {
        [CommandOption("-o|--output <FILE>")]
        [Description("The package file to write (by convention *.mulan-app.zip). Required.")]
        public string? Output { get; init; }

        [CommandOption("--version <N>")]
        [Description("The version to export. Default: the published one, else the latest.")]
        public int? Version { get; init; }

        [CommandOption("--documents")]
        [Description("Include the documents of the app's knowledge bases.")]
        public bool Documents { get; init; }

        [CommandOption("--evaluation")]
        [Description("Include evaluation items made from feedback corrections.")]
        public bool Evaluation { get; init; }

        public override ValidationResult Validate() => string.IsNullOrWhiteSpace(Output) ? ValidationResult.Error("-o: required") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var path = s.Path("/export", ("version", s.Version?.ToString(CultureInfo.InvariantCulture)),
            ("documents", s.Documents ? "true" : null), ("evaluation", s.Evaluation ? "true" : null));
        // Written beside the target first, so a failed download never leaves half a package under the name asked for.
        var partial = s.Output + ".partial";
        try
        {
            await using (var file = File.Create(partial))
            {
                await api.DownloadAsync(path, file, ct);
            }
            File.Move(partial, s.Output!, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
        // Read back with the server's own checks: what is printed is what the file holds.
        PackageReadResult read;
        await using (var file = File.OpenRead(s.Output!))
        {
            read = AppPackage.Read(file, PackageLimits.Default);
        }
        if (read.Manifest is not { } manifest)
        {
            throw new HttpRequestException($"The server sent a package that does not read back: {string.Join("; ", read.Problems)}");
        }
        var summary = new JsonObject
        {
            ["file"] = Path.GetFullPath(s.Output!),
            ["bytes"] = new FileInfo(s.Output!).Length,
            ["slug"] = manifest.App.Slug,
            ["version"] = manifest.App.Version,
            ["knowledgeBases"] = new JsonArray([.. manifest.Includes.KnowledgeBases.Select(k => (JsonNode)k)]),
            ["documents"] = manifest.Includes.DocumentCount,
            ["evaluationItems"] = manifest.Includes.EvaluationItems,
        };
        if (s.Json)
        {
            JsonTables.Print(summary);
        }
        else
        {
            System.Console.WriteLine($"Exported {manifest.App.Slug} version {manifest.App.Version} to {s.Output} ({summary["bytes"]} bytes): " +
                $"{manifest.Includes.DocumentCount} documents, {manifest.Includes.EvaluationItems} evaluation items.");
        }
        return 0;
    }
}

public sealed class AppsImportCommand : AsyncCommand<AppsImportCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("The package (*.mulan-app.zip).")]
        public string File { get; init; } = "";

        [CommandOption("--workspace <WORKSPACE>")]
        [Description("Workspace id or name to create the app in. Default: the 'default' workspace.")]
        public string? Workspace { get; init; }

        [CommandOption("--slug <SLUG>")]
        [Description("Create the app under another slug than the package's.")]
        public string? Slug { get; init; }

        [CommandOption("--map-model <OLD=NEW>")]
        [Description("Use the route NEW wherever the package names the route OLD. Repeatable.")]
        public string[] MapModel { get; init; } = [];

        [CommandOption("--map-kb <OLD=NEW>")]
        [Description("Use the knowledge base NEW (name or id) of the workspace wherever the package names OLD. Repeatable.")]
        public string[] MapKnowledgeBase { get; init; } = [];

        public override ValidationResult Validate()
        {
            if (!System.IO.File.Exists(File))
            {
                return ValidationResult.Error($"FILE: '{File}' does not exist");
            }
            foreach (var (option, values) in new[] { ("--map-model", MapModel), ("--map-kb", MapKnowledgeBase) })
            {
                if (values.FirstOrDefault(v => Split(v) is null) is { } bad)
                {
                    return ValidationResult.Error($"{option}: '{bad}' is not like OLD=NEW");
                }
            }
            return ValidationResult.Success();
        }

        internal static (string Old, string New)? Split(string mapping)
        {
            var at = mapping.IndexOf('=', StringComparison.Ordinal);
            return at > 0 && at < mapping.Length - 1 ? (mapping[..at], mapping[(at + 1)..]) : null;
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var query = new List<(string, string?)> { ("workspace", s.Workspace), ("slug", s.Slug) };
        query.AddRange(s.MapModel.Select(m => Settings.Split(m)!.Value).Select(m => ("mapModel", (string?)$"{m.Old}:{m.New}")));
        query.AddRange(s.MapKnowledgeBase.Select(m => Settings.Split(m)!.Value).Select(m => ("mapKnowledgeBase", (string?)$"{m.Old}:{m.New}")));
        var created = await api.PostFileAsync(MulanApiClient.WithQuery("api/apps/import", [.. query]), s.File, AppPackage.MediaType, ct);
        if (s.Json)
        {
            JsonTables.Print(created);
            return 0;
        }
        var app = created["app"] ?? created;
        System.Console.WriteLine($"Imported app {AppSettings.Describe(app)}.");
        foreach (var kb in created["knowledgeBases"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            AnsiConsole.MarkupLine($"  created knowledge base [bold]{Markup.Escape(kb["name"]?.ToString() ?? "")}[/] ({Markup.Escape(kb["id"]?.ToString() ?? "")}), " +
                $"{kb["documents"]?.AsArray().Count ?? 0} documents queued");
        }
        return 0;
    }
}
