namespace Mulan.FakeVendor;

/// <summary>
/// What the vendor would charge for one chat/embeddings request. Tests compare these with
/// the gateway's own usage ledger, request by request, via <see cref="MulanRequestId"/>.
/// </summary>
/// <param name="VendorRequestId">The id the vendor gave the request (also sent as the <c>x-request-id</c> response header).</param>
/// <param name="MulanRequestId">The incoming <c>x-mulan-request-id</c> header, if any.</param>
/// <param name="Endpoint"><c>"chat"</c> or <c>"embeddings"</c>.</param>
/// <param name="Model">The model exactly as the client sent it (options included); empty if unreadable.</param>
/// <param name="Outcome"><c>completed</c>, <c>client_aborted</c>, <c>reset</c> or <c>failed</c>.</param>
/// <param name="Streamed">The response was an SSE stream.</param>
/// <param name="UsageSent">A usage object reached the wire (non-streaming body, usage chunk or Moonshot-style final chunk).</param>
public sealed record VendorBill(
    string VendorRequestId,
    string? MulanRequestId,
    string Endpoint,
    string Model,
    int PromptTokens,
    int CompletionTokens,
    string Outcome,
    bool Streamed,
    bool UsageSent)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>The <see cref="VendorBill.Outcome"/> values, so callers need not repeat string literals.</summary>
public static class BillOutcome
{
    public const string Completed = "completed";
    public const string ClientAborted = "client_aborted";
    public const string Reset = "reset";
    public const string Failed = "failed";
}
