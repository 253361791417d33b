using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Mulan.Knowledge.Answering;
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
        System.Console.WriteLine(s.Json ? created.ToJsonString() : $"Created knowledge base {created["name"]} ({created["id"]}), embedding model {created["embeddingModel"]}.");
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

        [CommandOption("--name <NAME>")]
        [Description("A new name (unique in its workspace).")]
        public string? NewName { get; init; }

        [CommandOption("--description <TEXT>")]
        [Description("A new description; \"\" clears it.")]
        public string? Description { get; init; }

        public override ValidationResult Validate() =>
            EmbeddingModel is null && RerankModel is null && NewName is null && Description is null
                ? ValidationResult.Error("Give --name, --description, --embedding-model or --rerank-model.") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var kb = await api.PatchAsync(s.Path(), new { name = s.NewName, description = s.Description, embeddingModel = s.EmbeddingModel, rerankModel = s.RerankModel }, ct);
        if (s.Json)
        {
            System.Console.WriteLine(kb.ToJsonString());
        }
        else if (kb["reembedding"] is { } pending)
        {
            System.Console.WriteLine($"Re-embedding {kb["name"]} with {pending["model"]} in the background ({pending["embedded"]} of {pending["chunks"]} chunks so far); " +
                $"searches use {kb["embeddingModel"]} until it is done. Rerank model: {kb["rerankModel"]}.");
        }
        else
        {
            System.Console.WriteLine($"{kb["name"]}: embedding model {kb["embeddingModel"]}, rerank model {kb["rerankModel"]}.");
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
        [Description("Files and folders (folders are read recursively, hidden files skipped). A file whose name (its path within a given folder) is already in the knowledge base replaces that document; the same content again is reported unchanged.")]
        public string[] Paths { get; init; } = [];

        [CommandOption("--no-wait")]
        [Description("Return once uploaded, without waiting for ingestion.")]
        public bool NoWait { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        // Each file with the name it is uploaded under: its path relative to the folder given, so that sub/readme.md
        // and readme.md stay two documents.
        var files = new List<(string Path, string Name)>();
        foreach (var path in s.Paths)
        {
            if (File.Exists(path))
            {
                files.Add((path, System.IO.Path.GetFileName(path)));
            }
            else if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
                    .Where(f => !System.IO.Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)
                    .Select(f => (f, System.IO.Path.GetRelativePath(path, f).Replace('\\', '/'))));
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
        var uploads = new List<Upload>();
        var bytes = files.Sum(f => new FileInfo(f.Path).Length);
        var states = new Dictionary<string, JsonObject>();
        // --json prints one JSON document and nothing else: no progress display at all then.
        var progress = s.Json ? null : AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn());
        if (progress is not null && System.Console.IsOutputRedirected)
        {
            progress = progress.AutoRefresh(false);
        }
        async Task RunAsync(ProgressContext? p)
        {
            var upload = p?.AddTask($"Uploading {files.Count} files", maxValue: files.Count);
            foreach (var (file, name) in files)
            {
                var queued = (await api.UploadAsync(s.Path("/documents"), file, ct, name))["documents"]![0]!;
                uploads.Add(new Upload(file, queued["id"]!.GetValue<string>(), queued["status"]!.GetValue<string>(), queued["replaces"]?.GetValue<string>()));
                upload?.Increment(1);
            }
            var waiting = uploads.Where(u => u.Status != "unchanged").Select(u => u.Id).ToHashSet();
            if (s.NoWait || waiting.Count == 0)
            {
                return;
            }
            var ingest = p?.AddTask("Ingesting", maxValue: waiting.Count);
            while (true)
            {
                var listed = await ListAllDocumentsAsync(api, s, ct);
                foreach (var id in waiting)
                {
                    // A document no longer listed was superseded by a later file of the same name in this run.
                    states[id] = listed.TryGetValue(id, out var d) ? d : new JsonObject { ["id"] = id, ["status"] = "superseded", ["chunks"] = 0 };
                }
                var finished = waiting.Count(id => states[id]["status"]!.GetValue<string>() is "ready" or "failed" or "superseded");
                if (ingest is not null)
                {
                    ingest.Value = finished;
                }
                if (finished == waiting.Count)
                {
                    break;
                }
                await Task.Delay(250, ct);
            }
        }
        if (progress is null)
        {
            await RunAsync(null);
        }
        else
        {
            await progress.StartAsync(RunAsync);
        }
        string StatusOf(Upload u) => u.Status == "unchanged" ? "unchanged" : states.TryGetValue(u.Id, out var d) ? d["status"]!.GetValue<string>() : u.Status;
        var ready = uploads.Where(u => StatusOf(u) == "ready").ToList();
        var failed = uploads.Where(u => StatusOf(u) == "failed").ToList();
        var unchanged = uploads.Count(u => StatusOf(u) == "unchanged");
        var replaced = ready.Count(u => u.Replaces is not null);
        var chunks = ready.Sum(u => states[u.Id]["chunks"]!.GetValue<int>());
        if (s.Json)
        {
            System.Console.WriteLine(new JsonObject
            {
                ["files"] = files.Count, ["ready"] = ready.Count, ["replaced"] = replaced, ["unchanged"] = unchanged, ["failed"] = failed.Count, ["chunks"] = chunks,
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
                ["failures"] = new JsonArray([.. failed.Select(f => (JsonNode)new JsonObject { ["file"] = f.File, ["error"] = states[f.Id]["error"]?.GetValue<string>() })]),
                ["documents"] = new JsonArray([.. uploads.Select(u => (JsonNode)new JsonObject
                {
                    ["file"] = u.File, ["id"] = u.Id, ["status"] = StatusOf(u), ["replaces"] = u.Replaces,
                })]),
            }.ToJsonString());
        }
        else
        {
            // One line, unwrapped, so scripts can grep it.
            System.Console.Out.WriteLine($"{files.Count} files, {bytes / 1048576.0:0.0} MiB in {clock.Elapsed.TotalSeconds:0.0} s: " +
                $"{ready.Count} ready ({chunks} chunks), {replaced} replaced, {unchanged} unchanged, {failed.Count} failed" + (s.NoWait ? " (not waited for)" : ""));
            foreach (var f in failed)
            {
                var kept = f.Replaces is null ? "" : $" (the earlier version {f.Replaces} is kept)";
                AnsiConsole.MarkupLine($"  [red]failed[/] {Markup.Escape(f.File)}: {Markup.Escape(states[f.Id]["error"]?.GetValue<string>() ?? "")}{Markup.Escape(kept)}");
            }
        }
        return failed.Count == 0 ? 0 : ExitCodeForFailures;
    }

    /// <summary>Every document of the knowledge base by id, page by page.</summary>
    internal static async Task<Dictionary<string, JsonObject>> ListAllDocumentsAsync(MulanApiClient api, KbSettings s, CancellationToken ct, string filter = "")
    {
        var all = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        for (var page = 1; ; page++)
        {
            var result = await api.GetAsync(s.Path($"/documents?pageSize=1000&page={page}{filter}"), ct);
            var documents = result["documents"]!.AsArray().OfType<JsonObject>().ToList();
            foreach (var d in documents)
            {
                all[d["id"]!.GetValue<string>()] = d;
            }
            if (documents.Count == 0 || all.Count >= result["count"]!.GetValue<int>())
            {
                return all;
            }
        }
    }

    private sealed record Upload(string File, string Id, string Status, string? Replaces);

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
            System.Console.WriteLine(result.ToJsonString());
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

        [CommandOption("--model <MODEL>")]
        [Description("Answer with this chat model (a model route), billed to the virtual key given with --key. Default: an extractive answer quoting the sources.")]
        public string? Model { get; init; }

        [CommandOption("--key <KEY>")]
        [Description("A virtual key (mk-...) of the knowledge base's workspace to ask with. Default env MULAN_KEY; without one, the administrator key.")]
        public string? Key { get; init; }

        public override ValidationResult Validate() =>
            Model is { Length: 0 } ? ValidationResult.Error("--model: give a model name") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        var key = s.Key ?? Environment.GetEnvironmentVariable("MULAN_KEY");
        if (s.Model is not null && key is null)
        {
            throw new CliUserException("--key: answering with --model is billed to a virtual key; pass --key mk-... (or set MULAN_KEY)");
        }
        using var api = key is null ? new MulanApiClient(s) : new MulanApiClient(s, key);
        var answer = await api.PostAsync(s.Path("/ask"), new { question = s.Question, model = s.Model }, ct);
        if (s.Json)
        {
            System.Console.WriteLine(answer.ToJsonString());
            return 0;
        }
        // Wrapped here rather than by the console, so a citation marker never lands on a line of its own.
        foreach (var line in CitationMarkers.Wrap(answer["answer"]!.GetValue<string>(), Math.Max(20, AnsiConsole.Profile.Width)))
        {
            System.Console.Out.WriteLine(line);
        }
        if (answer["warning"] is { } warning)
        {
            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(warning.GetValue<string>())}[/]");
        }
        foreach (var c in answer["citations"]!.AsArray().OfType<JsonObject>())
        {
            AnsiConsole.MarkupLine($"  [grey][[{c["marker"]}]] {Markup.Escape(KbSettings.Source(c))}[/]");
        }
        return 0;
    }
}
