namespace Mulan.FakeVendor;

/// <summary>
/// Out-of-band routes for a fake running in another process (the benchmark):
/// <c>GET /_ledger</c> returns the bills as a JSON array, <c>POST /_ledger/clear</c> empties it.
/// </summary>
internal static class ControlEndpoints
{
    public static async Task HandleAsync(HttpContext context, VendorState state, string path)
    {
        var method = context.Request.Method;
        if (path == "/_ledger" && HttpMethods.IsGet(method))
        {
            var buffer = Json.Scratch();
            LedgerJson.Write(Json.Writer(buffer), state.Ledger.Bills);
            await Http.WriteJsonAsync(context, buffer.WrittenSpan);
        }
        else if (path == "/_ledger/clear" && HttpMethods.IsPost(method))
        {
            state.Ledger.Clear();
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }
}
