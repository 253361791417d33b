using System.Text.Json.Nodes;
using Spectre.Console;

namespace Mulan.Cli;

/// <summary>How the client verbs show what the API answered: the JSON itself with --json, else a table.</summary>
internal static class JsonTables
{
    public static string Cell(JsonNode? node) =>
        node is null ? "" : Markup.Escape(node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString());

    /// <summary>The one JSON document a verb prints with <c>--json</c>: one line, nothing else on stdout.</summary>
    public static void Print(JsonNode node) => System.Console.Out.WriteLine(node.ToJsonString(Relaxed));

    // Stdout is not HTML: Chinese text and quotes stay readable instead of \uXXXX.
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>GETs <paramref name="path"/> and prints the objects under <paramref name="property"/> as a table of the given fields.</summary>
    public static async Task<int> ListAsync(ClientSettings settings, string path, string property, CancellationToken ct, params (string Header, string Field)[] columns)
    {
        using var api = new MulanApiClient(settings);
        var list = await api.GetAsync(path, ct);
        if (settings.Json)
        {
            Print(list);
            return 0;
        }
        var table = new Table().AddColumns([.. columns.Select(c => c.Header)]);
        foreach (var row in list[property]!.AsArray().OfType<JsonObject>())
        {
            table.AddRow([.. columns.Select(c => Cell(row[c.Field]))]);
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
