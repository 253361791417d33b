using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

public class KbSettings : ClientSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Knowledge base name or id.")]
    public string Name { get; init; } = "";

    internal string Path(string rest = "") => $"api/knowledge-bases/{Uri.EscapeDataString(Name)}{rest}";

    /// <summary>Where a result or citation comes from: the section path (which starts with the title when the document
    /// has one as its top heading, so the title is not repeated), else the title, and the page.</summary>
    internal static string Source(JsonNode item)
    {
        var title = item["title"]!.GetValue<string>();
        var section = item["section"]?.GetValue<string>();
        var where = section is null ? title : section.StartsWith(title, StringComparison.Ordinal) ? section : $"{title} › {section}";
        return item["page"] is { } page ? $"{where}, p. {page}" : where;
    }
}

public sealed class KbCreateCommand : AsyncCommand<KbCreateCommand.Settings>
{
    public sealed class Settings : KbSettings
    {
        [CommandOption("--workspace <WORKSPACE>")]
        public string? Workspace { get; init; }

        [CommandOption("--description <TEXT>")]
        public string? Description { get; init; }

        [CommandOption("--embedding-model <MODEL>")]
        [Description("local-minilm (bundled, English), an embedding model of the catalog, or none (keyword search only). Default: the server's Knowledge:DefaultEmbeddingModel.")]
        public string? EmbeddingModel { get; init; }

        [CommandOption("--rerank-model <MODEL>")]
        [Description("A chat model of the catalog that reorders the best candidates of every search. Default: none.")]
        public string? RerankModel { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var created = await api.PostAsync("api/knowledge-bases",
            new { name = s.Name, workspace = s.Workspace, description = s.Description, embeddingModel = s.EmbeddingModel, rerankModel = s.RerankModel }, ct);
        Console.WriteLine(s.Json ? created.ToJsonString() : $"Created knowledge base {created["name"]} ({created["id"]}), embedding model {created["embeddingModel"]}.");
        return 0;
    }
}

public sealed class KbUpdateCommand : AsyncCommand<KbUpdateCommand.Settings>
{
    public sealed class Settings : KbSettings
    {
        [CommandOption("--embedding-model <MODEL>")]
        [Description("local-minilm, an embedding model of the catalog, or none. Re-embeds in the background; searches use the old vectors until it is done.")]
        public string? EmbeddingModel { get; init; }

        [CommandOption("--rerank-model <MODEL>")]
        [Description("A chat model of the catalog that reorders the best candidates of every search, or none.")]
        public string? RerankModel { get; init; }

        public override ValidationResult Validate() =>
            EmbeddingModel is null && RerankModel is null ? ValidationResult.Error("Give --embedding-model, --rerank-model or both.") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var kb = await api.PatchAsync(s.Path(), new { embeddingModel = s.EmbeddingModel, rerankModel = s.RerankModel }, ct);
        if (s.Json)
        {
            Console.WriteLine(kb.ToJsonString());
        }
        else if (kb["reembedding"] is { } pending)
        {
            Console.WriteLine($"Re-embedding {kb["name"]} with {pending["model"]} in the background ({pending["embedded"]} of {pending["chunks"]} chunks so far); " +
                $"searches use {kb["embeddingModel"]} until it is done. Rerank model: {kb["rerankModel"]}.");
        }
        else
        {
            Console.WriteLine($"{kb["name"]}: embedding model {kb["embeddingModel"]}, rerank model {kb["rerankModel"]}.");
        }
        return 0;
    }
}

public sealed class KbListCommand : AsyncCommand<ClientSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ClientSettings s, CancellationToken ct) =>
        JsonTables.ListAsync(s, "api/knowledge-bases", "knowledgeBases", ct, ("id", "id"), ("name", "name"), ("workspace", "workspace"), ("embedding model", "embeddingModel"), ("rerank model", "rerankModel"), ("description", "description"));
}

public sealed class KbIngestCommand : AsyncCommand<KbIngestCommand.Settings>
{
    public sealed class Settings : KbSettings
    {
        [CommandArgument(1, "<PATH>")]
        [Description("Files and folders (folders are read recursively, hidden files skipped).")]
        public string[] Paths { get; init; } = [];

        [CommandOption("--no-wait")]
        [Description("Return once uploaded, without waiting for ingestion.")]
        public bool NoWait { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var files = new List<string>();
        foreach (var path in s.Paths)
        {
            if (File.Exists(path))
            {
                files.Add(path);
            }
            else if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
                    .Where(f => !System.IO.Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal));
            }
            else
            {
                throw new CliUserException($"PATH: '{path}' is neither a file nor a folder");
            }
        }
        if (files.Count == 0)
        {
            throw new CliUserException("PATH: no files to ingest");
        }
        using var api = new MulanApiClient(s);
        await api.GetAsync(s.Path(), ct); // fails early (exit 1) when the knowledge base does not exist
        var clock = Stopwatch.StartNew();
        var ids = new Dictionary<string, string>();
        var bytes = files.Sum(f => new FileInfo(f).Length);
        var progress = AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn());
        if (s.Json || Console.IsOutputRedirected)
        {
            progress = progress.AutoRefresh(false);
        }
        var states = new Dictionary<string, JsonObject>();
        await progress.StartAsync(async p =>
        {
            var upload = p.AddTask($"Uploading {files.Count} files", maxValue: files.Count);
            foreach (var file in files)
            {
                var queued = await api.UploadAsync(s.Path("/documents"), file, ct);
                ids[queued["documents"]![0]!["id"]!.GetValue<string>()] = file;
                upload.Increment(1);
            }
            if (s.NoWait)
            {
                return;
            }
            var ingest = p.AddTask("Ingesting", maxValue: files.Count);
            while (true)
            {
                var docs = (await api.GetAsync(s.Path("/documents"), ct))["documents"]!.AsArray().OfType<JsonObject>();
                foreach (var d in docs.Where(d => ids.ContainsKey(d["id"]!.GetValue<string>())))
                {
                    states[d["id"]!.GetValue<string>()] = d;
                }
                var finished = states.Values.Count(d => d["status"]!.GetValue<string>() is "ready" or "failed");
                ingest.Value = finished;
                if (finished == ids.Count)
                {
                    break;
                }
                await Task.Delay(250, ct);
            }
        });
        var ready = states.Values.Where(d => d["status"]!.GetValue<string>() == "ready").ToList();
        var failed = states.Values.Where(d => d["status"]!.GetValue<string>() == "failed").ToList();
        var chunks = ready.Sum(d => d["chunks"]!.GetValue<int>());
        if (s.Json)
        {
            Console.WriteLine(new JsonObject
            {
                ["files"] = files.Count, ["ready"] = ready.Count, ["failed"] = failed.Count, ["chunks"] = chunks,
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
                ["failures"] = new JsonArray([.. failed.Select(f => (JsonNode)new JsonObject { ["file"] = ids[f["id"]!.GetValue<string>()], ["error"] = f["error"]?.GetValue<string>() })]),
            }.ToJsonString());
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{files.Count} files, {bytes / 1048576.0:0.0} MiB in {clock.Elapsed.TotalSeconds:0.0} s: " +
                $"{ready.Count} ready ({chunks} chunks), {failed.Count} failed" + (s.NoWait ? " (not waited for)" : "")));
            foreach (var f in failed)
            {
                AnsiConsole.MarkupLine($"  [red]failed[/] {Markup.Escape(ids[f["id"]!.GetValue<string>()])}: {Markup.Escape(f["error"]?.GetValue<string>() ?? "")}");
            }
        }
        return failed.Count == 0 ? 0 : ExitCodeForFailures;
    }

    /// <summary>Some documents could not be read: a user-side problem with those files.</summary>
    private const int ExitCodeForFailures = 1;
}

public sealed partial class KbSearchCommand : AsyncCommand<KbSearchCommand.Settings>
{
    public sealed class Settings : KbSettings
    {
        [CommandArgument(1, "<QUERY>")]
        public string Query { get; init; } = "";

        [CommandOption("--top <N>")]
        public int? Top { get; init; }

        [CommandOption("--mode <MODE>")]
        [Description("hybrid (default), keyword or vector.")]
        public string? Mode { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var result = await api.PostAsync(s.Path("/search"), new { query = s.Query, topK = s.Top, mode = s.Mode }, ct);
        if (s.Json)
        {
            Console.WriteLine(result.ToJsonString());
            return 0;
        }
        if (result["warning"] is { } warning)
        {
            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(warning.GetValue<string>())}[/]");
        }
        var rank = 0;
        foreach (var r in result["results"]!.AsArray().OfType<JsonObject>())
        {
            rank++;
            AnsiConsole.MarkupLine($"[bold]{rank}. {Markup.Escape(KbSettings.Source(r))}[/] [grey]({Markup.Escape(Why(r["explanation"]!))})[/]");
            AnsiConsole.WriteLine(r["text"]!.GetValue<string>());
            AnsiConsole.WriteLine();
        }
        if (rank == 0)
        {
            AnsiConsole.MarkupLine("[grey]No results.[/]");
        }
        return 0;
    }
}

public sealed partial class KbSearchCommand
{
    /// <summary>One line per result: which retriever found it, at what rank and score, and the matched terms.</summary>
    private static string Why(JsonNode e)
    {
        var parts = new List<string>();
        if (e["keywordRank"] is { } kr)
        {
            parts.Add($"keyword #{kr} {e["keywordScore"]!.GetValue<double>():0.00}");
        }
        if (e["vectorRank"] is { } vr)
        {
            parts.Add($"vector #{vr} {e["vectorScore"]!.GetValue<double>():0.000}");
        }
        var terms = e["matchedTerms"]!.AsObject().Select(t => t.Key).ToList();
        if (terms.Count > 0)
        {
            parts.Add("terms " + string.Join(" ", terms));
        }
        return string.Join("; ", parts);
    }
}

public sealed class KbAskCommand : AsyncCommand<KbAskCommand.Settings>
{
    public sealed class Settings : KbSettings
    {
        [CommandArgument(1, "<QUESTION>")]
        public string Question { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var answer = await api.PostAsync(s.Path("/ask"), new { question = s.Question }, ct);
        if (s.Json)
        {
            Console.WriteLine(answer.ToJsonString());
            return 0;
        }
        AnsiConsole.WriteLine(answer["answer"]!.GetValue<string>());
        foreach (var c in answer["citations"]!.AsArray().OfType<JsonObject>())
        {
            AnsiConsole.MarkupLine($"  [grey][[{c["marker"]}]] {Markup.Escape(KbSettings.Source(c))}[/]");
        }
        return 0;
    }
}
