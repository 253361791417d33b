using System.Buffers;

namespace Mulan.FakeVendor;

/// <summary>Small response helpers shared by the handlers.</summary>
internal static class Http
{
    /// <summary>
    /// Copies a (per-thread scratch) buffer into Kestrel's pipe synchronously, then flushes.
    /// Copying before the await is what makes the per-thread buffer safe to reuse.
    /// </summary>
    public static Task WriteBodyAsync(HttpContext context, ArrayBufferWriter<byte> buffer) =>
        WriteBodyAsync(context, buffer.WrittenSpan);

    /// <summary>Writes a complete body, billing it between write and flush (see <see cref="Write"/>).</summary>
    public static async Task WriteBilledAsync(HttpContext context, VendorState state, ArrayBufferWriter<byte> buffer, Func<string, VendorBill> bill)
    {
        if (!Write(context, buffer.WrittenSpan))
        {
            bill(BillOutcome.ClientAborted);
            return;
        }

        var billed = bill(BillOutcome.Completed);
        if (!await FlushAsync(context))
        {
            state.MarkClientAborted(billed);
        }
    }

    public static Task WriteBodyAsync(HttpContext context, ReadOnlySpan<byte> body) =>
        Write(context, body) ? FlushAsync(context) : Task.CompletedTask;

    /// <summary>
    /// Sets Content-Length and copies the body into the pipe. Kestrel sends nothing before the
    /// flush, which lets a handler bill between the two. False if the client is already gone.
    /// </summary>
    public static bool Write(HttpContext context, ReadOnlySpan<byte> body)
    {
        var response = context.Response;
        response.ContentLength = body.Length;
        try
        {
            response.BodyWriter.Write(body);
            return !context.RequestAborted.IsCancellationRequested;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>False when the client left; Kestrel drops writes to a dead connection silently.</summary>
    public static async Task<bool> FlushAsync(HttpContext context)
    {
        try
        {
            var result = await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            return !result.IsCanceled && !context.RequestAborted.IsCancellationRequested;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return false;
        }
    }

    public static Task WriteJsonAsync(HttpContext context, ReadOnlySpan<byte> body)
    {
        context.Response.ContentType = "application/json";
        return WriteBodyAsync(context, body);
    }

    public static string? Header(HttpContext context, string name)
    {
        var value = context.Request.Headers[name];
        return value.Count == 0 ? null : value.ToString();
    }
}
