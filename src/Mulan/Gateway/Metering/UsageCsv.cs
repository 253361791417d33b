using System.Globalization;
using System.Text;
using Mulan.Hosting;

namespace Mulan.Gateway.Metering;

/// <summary>The usage explorer's CSV export: one row per ledger record, cells made inert for spreadsheets.</summary>
public static class UsageCsv
{
    public const string Header = "at,request_id,workspace,key,endpoint,model,provider,vendor_model,status,http_status,input_tokens,cached_tokens," +
        "output_tokens,reasoning_tokens,units,unit,cost,currency,latency_ms,ttft_ms,streamed,attempts,app,app_version,user,run,evaluation_run,error";

    public static async Task WriteAsync(IAsyncEnumerable<UsageRecord> records, Stream body, CancellationToken ct)
    {
        await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024, leaveOpen: true);
        await writer.WriteLineAsync(Header);
        var line = new StringBuilder(512);
        await foreach (var r in records.WithCancellation(ct))
        {
            line.Clear();
            Cell(line, r.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            Cell(line, r.RequestId);
            Cell(line, r.WorkspaceId);
            Cell(line, r.KeyId);
            Cell(line, r.Endpoint);
            Cell(line, r.Model);
            Cell(line, r.Provider);
            Cell(line, r.VendorModel);
            Cell(line, UsageNames.Of(r.Status));
            Cell(line, Number(r.HttpStatus));
            Cell(line, Number(r.InputTokens));
            Cell(line, Number(r.CachedTokens));
            Cell(line, Number(r.OutputTokens));
            Cell(line, Number(r.ReasoningTokens));
            Cell(line, r.Unit is null ? null : r.Units.ToString(CultureInfo.InvariantCulture));
            Cell(line, r.Unit is { } unit ? Catalog.ModelKinds.Name(unit) : null);
            Cell(line, r.Cost.ToString(CultureInfo.InvariantCulture));
            Cell(line, r.Currency?.ToString());
            Cell(line, r.LatencyMs.ToString("0.###", CultureInfo.InvariantCulture));
            Cell(line, r.TimeToFirstTokenMs?.ToString("0.###", CultureInfo.InvariantCulture));
            Cell(line, r.Streamed ? "true" : "false");
            Cell(line, Number(r.Attempts));
            Cell(line, r.AppId);
            Cell(line, r.AppVersion is { } v ? Number(v) : null);
            Cell(line, r.EndUser);
            Cell(line, r.RunId);
            Cell(line, r.EvaluationRunId);
            Cell(line, r.Error, last: true);
            await writer.WriteLineAsync(line, ct);
        }
        await writer.FlushAsync(ct);
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static void Cell(StringBuilder line, string? text, bool last = false)
    {
        line.Append(CsvCell.Of(text));
        if (!last)
        {
            line.Append(',');
        }
    }
}
