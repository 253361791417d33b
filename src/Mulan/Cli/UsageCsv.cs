using System.Text;
using System.Text.Json.Nodes;

namespace Mulan.Cli;

/// <summary><c>mulan usage --csv</c>: the usage records as RFC 4180 CSV, one row per request, for spreadsheets and billing.</summary>
internal static class UsageCsv
{
    private const int PageSize = 1000;

    private static readonly string[] Columns =
    [
        "at", "requestId", "workspace", "key", "endpoint", "model", "provider", "vendorModel", "inputTokens", "cachedTokens", "outputTokens",
        "reasoningTokens", "cost", "currency", "latencyMs", "timeToFirstTokenMs", "status", "usage", "streamed", "httpStatus", "attempts", "error",
    ];

    public static async Task<int> ExportAsync(MulanApiClient api, UsageCommand.Settings s, List<string> filters, CancellationToken ct)
    {
        var query = filters.Where(f => !f.StartsWith("page=", StringComparison.Ordinal) && !f.StartsWith("pageSize=", StringComparison.Ordinal)).ToList();
        var writer = s.Output is null ? System.Console.Out : new StreamWriter(s.Output, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        var rows = 0;
        try
        {
            await writer.WriteAsync(string.Join(",", Columns) + "\r\n");
            // Every page, unless the user asked for one: an export that silently stops at 50 rows would be a wrong bill.
            for (var page = s.Page ?? 1; ; page++)
            {
                var size = s.PageSize ?? PageSize;
                var result = await api.GetAsync($"api/usage?{string.Join("&", [.. query, $"page={page}", $"pageSize={size}"])}", ct);
                var records = result["records"]!.AsArray().OfType<JsonObject>().ToList();
                foreach (var r in records)
                {
                    await writer.WriteAsync(Row(r) + "\r\n");
                    rows++;
                }
                if (s.Page is not null || records.Count < size || (long)page * size >= result["count"]!.GetValue<long>())
                {
                    break;
                }
            }
        }
        finally
        {
            if (s.Output is not null)
            {
                await writer.DisposeAsync();
            }
        }
        if (s.Output is not null)
        {
            if (s.Json)
            {
                JsonTables.Print(new JsonObject { ["file"] = Path.GetFullPath(s.Output), ["records"] = rows });
            }
            else
            {
                System.Console.WriteLine($"Wrote {rows} usage record(s) to {s.Output}.");
            }
        }
        return 0;
    }

    private static string Row(JsonObject r) => string.Join(",", Columns.Select(c => c switch
    {
        "cost" => Field(r["cost"]?["amount"]),
        "currency" => Field(r["cost"]?["currency"]),
        _ => Field(r[c]),
    }));

    private static string Field(JsonNode? node)
    {
        if (node is null)
        {
            return "";
        }
        if (node is JsonValue v && v.TryGetValue<string>(out var text))
        {
            return Hosting.CsvCell.Of(text);
        }
        return node.ToJsonString();
    }
}
