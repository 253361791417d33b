using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;

namespace Mulan.Governance.Reconciliation;

public static class ReconciliationEndpoints
{
    /// <summary>The largest bill accepted, in bytes (16 MiB); larger ones get 413.</summary>
    public const int MaxBillBytes = 16 * 1024 * 1024;

    // Room for the multipart envelope around a bill of the largest size.
    private const int MultipartAllowance = 64 * 1024;

    // An oversized body is read and discarded up to here, so that a client still sending gets a clean 413 rather
    // than a reset connection; past it Kestrel stops the request.
    private const long DrainCapBytes = 64L * 1024 * 1024;

    private static readonly string[] CsvMediaTypes = ["text/csv", "application/csv", "text/plain"];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static RouteGroupBuilder MapReconciliation(this RouteGroupBuilder api)
    {
        api.MapPost("/reconciliation", ReconcileAsync).WithName("Reconcile")
            .WithSummary("Compare a vendor's bill (CSV: date, model, tokens, amount) with the ledger, per UTC day and vendor model.")
            .WithMetadata(new RequestSizeLimitAttribute(DrainCapBytes));
        return api;
    }

    private static async Task<Results<Ok<ReconciliationReport>, ValidationProblem, ProblemHttpResult>> ReconcileAsync(
        string? provider, string? tolerance, HttpRequest request, IUsageStore store, CatalogState catalog, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(provider))
        {
            errors["provider"] = ["required: the provider whose bill this is"];
        }
        var limit = Reconciler.DefaultTolerance;
        if (tolerance is not null && !decimal.TryParse(tolerance, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out limit))
        {
            errors["tolerance"] = [$"'{tolerance}' is not a number of 0 or more"];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var (text, problem) = await ReadBillAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (bill, billErrors) = BillReader.Read(text!);
        if (billErrors.Count > 0)
        {
            return Unreadable(billErrors);
        }
        var (from, to) = (bill.Min(r => r.Date), bill.Max(r => r.Date));
        var ledger = await store.BilledDaysAsync(provider!, StartOf(from), StartOf(to.AddDays(1)), ct);
        var snapshot = catalog.Current;
        // A provider removed from the catalog can still be reconciled: its last invoice arrives after it is gone.
        if (!snapshot.Providers.ContainsKey(provider!) && ledger.Count == 0)
        {
            return TypedResults.Problem(statusCode: 404,
                detail: $"No provider '{provider}' in the catalog, nor in the ledger between {from:yyyy-MM-dd} and {to:yyyy-MM-dd}.");
        }
        var deployments = snapshot.Models.Values.SelectMany(m => m.Deployments).Where(d => d.Provider.Name == provider)
            .Select(d => (d.VendorModel, d.Price.Currency)).Distinct().ToList();
        var (report, currencyErrors) = Reconciler.Reconcile(provider!, bill, ledger, deployments, limit);
        return report is null ? Unreadable(currencyErrors) : TypedResults.Ok(report);
    }

    private static DateTimeOffset StartOf(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static ProblemHttpResult Unreadable(IReadOnlyList<BillError> errors) => TypedResults.Problem(statusCode: 400,
        detail: errors[0].ToString(), extensions: new Dictionary<string, object?>
        {
            ["line"] = errors[0].Line,
            ["column"] = errors[0].Column,
            ["errors"] = errors.Select(e => e.ToString()).ToArray(),
        });

    private static ProblemHttpResult TooLarge() => TypedResults.Problem(statusCode: 413, detail: $"A bill is limited to {MaxBillBytes} bytes (16 MiB).");

    /// <summary>The bill as text: the body itself (text/csv), or the multipart field <c>file</c>.</summary>
    private static async Task<(string? Text, ProblemHttpResult? Problem)> ReadBillAsync(HttpRequest request, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type))
        {
            return (null, Unsupported());
        }
        var multipart = type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) && type.Boundary.HasValue;
        if (!multipart && !CsvMediaTypes.Contains(type.MediaType.Value, StringComparer.OrdinalIgnoreCase))
        {
            return (null, Unsupported());
        }
        if (type.Charset.HasValue && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !type.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase) && !type.Charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
        {
            return (null, TypedResults.Problem(statusCode: 415, detail: $"The bill must be UTF-8, not {type.Charset}: save it as CSV UTF-8."));
        }
        var body = await ReadLimitedAsync(request.Body, multipart ? MaxBillBytes + MultipartAllowance : MaxBillBytes, ct);
        if (body is null)
        {
            return (null, TooLarge());
        }
        if (multipart)
        {
            try
            {
                body = await FilePartAsync(body, HeaderUtilities.RemoveQuotes(type.Boundary).Value!, ct);
            }
            catch (InvalidDataException e)
            {
                return (null, TypedResults.Problem(statusCode: 400, detail: $"Malformed multipart body: {e.Message}"));
            }
            if (body is null)
            {
                return (null, TypedResults.Problem(statusCode: 400, detail: "The multipart body has no field named 'file'."));
            }
            if (body.Length > MaxBillBytes)
            {
                return (null, TooLarge());
            }
        }
        if (body.Length == 0)
        {
            return (null, TypedResults.Problem(statusCode: 400, detail: "The bill is empty: send it as CSV (text/csv, or a multipart field 'file')."));
        }
        try
        {
            return (StrictUtf8.GetString(body), null);
        }
        catch (DecoderFallbackException e)
        {
            var line = 1 + body.AsSpan(0, Math.Clamp(e.Index, 0, body.Length)).Count((byte)'\n');
            return (null, TypedResults.Problem(statusCode: 400, detail: $"line {line}: the bill is not UTF-8 text; save it as CSV UTF-8.",
                extensions: new Dictionary<string, object?> { ["line"] = line }));
        }
    }

    private static ProblemHttpResult Unsupported() =>
        TypedResults.Problem(statusCode: 415, detail: "Send the bill as text/csv, or as multipart/form-data with a field named 'file'.");

    /// <summary>The body up to <paramref name="limit"/> bytes, or null when it is longer (the rest is drained, see <see cref="DrainCapBytes"/>).</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    var drained = buffer.Length + read;
                    while (drained <= DrainCapBytes && (read = await body.ReadAsync(chunk, ct)) > 0)
                    {
                        drained += read;
                    }
                    return null;
                }
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        return buffer.ToArray();
    }

    private static async Task<byte[]?> FilePartAsync(byte[] body, string boundary, CancellationToken ct)
    {
        var reader = new MultipartReader(boundary, new MemoryStream(body)) { HeadersLengthLimit = 16 * 1024 };
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("file", StringComparison.Ordinal))
            {
                using var file = new MemoryStream();
                await section.Body.CopyToAsync(file, ct);
                return file.ToArray();
            }
        }
        return null;
    }
}
