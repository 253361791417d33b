using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Mulan.Cli;

/// <summary>A document of a knowledge base, named by its id or by its source (the file name or URL it was uploaded as).</summary>
public class KbDocumentSettings : KbSettings
{
    [CommandArgument(1, "<DOC>")]
    [Description("Document id, or its source: the file name (or URL) it was uploaded as.")]
    public string Document { get; init; } = "";

    /// <summary>The document's id: <see cref="Document"/> itself when it is one, else the one document of that source.</summary>
    internal async Task<string> ResolveAsync(MulanApiClient api, CancellationToken ct)
    {
        var byId = await KbIngestCommand.ListAllDocumentsAsync(api, this, ct);
        if (byId.ContainsKey(Document))
        {
            return Document;
        }
        var bySource = byId.Values.Where(d => d["origin"]?.GetValue<string>() == Document || d["source"]?.GetValue<string>() == Document).ToList();
        return bySource.Count switch
        {
            0 => throw new CliUserException($"DOC: no document '{Document}' in knowledge base '{Name}'"),
            1 => bySource[0]["id"]!.GetValue<string>(),
            // Versions of one source (a ready one and one being ingested): the ready one is the document.
            _ => bySource.FirstOrDefault(d => d["status"]!.GetValue<string>() == "ready")?["id"]!.GetValue<string>()
                ?? throw new CliUserException($"DOC: '{Document}' names {bySource.Count} documents; give an id: {string.Join(", ", bySource.Select(d => d["id"]))}"),
        };
    }
}

public sealed class KbDocsCommand : AsyncCommand<KbDocsCommand.Settings>
{
    public sealed class Settings : KbSettings
    {
        [CommandOption("--status <STATUS>")]
        [Description("Only documents queued, processing, ready or failed.")]
        public string? Status { get; init; }

        public override ValidationResult Validate() =>
            Status is null or "queued" or "processing" or "ready" or "failed" ? base.Validate() : ValidationResult.Error("--status: one of queued, processing, ready, failed");
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var documents = (await KbIngestCommand.ListAllDocumentsAsync(api, s, ct, s.Status is null ? "" : $"&status={s.Status}")).Values.ToList();
        if (s.Json)
        {
            System.Console.WriteLine(new JsonObject { ["documents"] = new JsonArray([.. documents.Select(d => d.DeepClone())]), ["count"] = documents.Count }.ToJsonString());
            return 0;
        }
        var table = new Table().AddColumns("id", "title", "source", "status", "chunks", "size", "updated", "note");
        foreach (var d in documents)
        {
            var note = d["error"]?.GetValue<string>() ?? (d["replaces"] is { } r ? $"replaces {r}" : "");
            table.AddRow(JsonTables.Cell(d["id"]), JsonTables.Cell(d["title"]), JsonTables.Cell(d["origin"] ?? d["source"]), JsonTables.Cell(d["status"]),
                JsonTables.Cell(d["chunks"]), JsonTables.Cell(d["size"]), JsonTables.Cell(d["updatedAt"]), Markup.Escape(note));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class KbDeleteCommand : AsyncCommand<KbDeleteCommand.Settings>
{
    public sealed class Settings : KbSettings
    {
        [CommandOption("--force")]
        [Description("Delete even while something (an app) still uses the knowledge base.")]
        public bool Force { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var deleted = await api.DeleteAsync(s.Path(s.Force ? "?force=true" : ""), ct);
        System.Console.WriteLine(s.Json ? deleted.ToJsonString() : $"Deleted knowledge base {deleted["name"]} ({deleted["id"]}) with {deleted["documents"]} documents.");
        return 0;
    }
}

public sealed class KbDeleteDocCommand : AsyncCommand<KbDocumentSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, KbDocumentSettings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await s.ResolveAsync(api, ct);
        var deleted = await api.DeleteAsync(s.Path($"/documents/{Uri.EscapeDataString(id)}"), ct);
        System.Console.WriteLine(s.Json ? deleted.ToJsonString() : $"Deleted {string.Join(", ", deleted["deleted"]!.AsArray())} from {s.Name}.");
        return 0;
    }
}

public sealed class KbRenameDocCommand : AsyncCommand<KbRenameDocCommand.Settings>
{
    public sealed class Settings : KbDocumentSettings
    {
        [CommandArgument(2, "<TITLE>")]
        [Description("The new title (kept when the document is uploaded again).")]
        public string Title { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken ct)
    {
        using var api = new MulanApiClient(s);
        var id = await s.ResolveAsync(api, ct);
        var renamed = await api.PatchAsync(s.Path($"/documents/{Uri.EscapeDataString(id)}"), new { title = s.Title }, ct);
        System.Console.WriteLine(s.Json ? renamed.ToJsonString() : $"{renamed["id"]} is now titled \"{renamed["title"]}\".");
        return 0;
    }
}
