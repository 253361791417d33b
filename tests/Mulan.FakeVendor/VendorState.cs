using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;

namespace Mulan.FakeVendor;

/// <summary>Everything the request handlers share: key, ledger, recorded requests, fault queue, ids.</summary>
internal sealed class VendorState
{
    private readonly ConcurrentQueue<FakeFault> _faults = new();

    // A random tag per server keeps ids unique across servers in one test process.
    private readonly string _tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private long _counter;

    public VendorState(FakeVendorOptions options)
    {
        ApiKey = options.ApiKey;
        ExpectedAuthorization = "Bearer " + options.ApiKey;
        RecordRequests = options.RecordRequests;
    }

    public string ApiKey { get; }

    public string ExpectedAuthorization { get; }

    public bool RecordRequests { get; }

    public FakeVendorLedger Ledger { get; } = new();

    public SnapshotList<ReceivedRequest> Requests { get; } = new();

    public void Enqueue(FakeFault fault) => _faults.Enqueue(fault);

    public FakeFault? TakeFault() => _faults.TryDequeue(out var fault) ? fault : null;

    public string NextId(string prefix) =>
        prefix + _tag + Interlocked.Increment(ref _counter).ToString("x6", CultureInfo.InvariantCulture);

    /// <remarks>
    /// Handlers bill before the last byte goes out (or before a reset), so a client that has
    /// just seen the end of its response always finds the bill already in the ledger.
    /// </remarks>
    public VendorBill Bill(
        HttpContext context,
        string vendorRequestId,
        string endpoint,
        string model,
        int promptTokens,
        int completionTokens,
        string outcome,
        bool streamed = false,
        bool usageSent = false)
    {
        var bill = new VendorBill(
            vendorRequestId,
            Http.Header(context, "x-mulan-request-id"),
            endpoint,
            model,
            promptTokens,
            completionTokens,
            outcome,
            streamed,
            usageSent);
        Ledger.Add(bill);
        return bill;
    }

    /// <summary>The last flush of a billed response failed: the client left after all.</summary>
    public void MarkClientAborted(VendorBill bill) =>
        Ledger.Replace(bill, bill with { Outcome = BillOutcome.ClientAborted });

    /// <summary>A bill for a request refused before the model ran: no tokens.</summary>
    public VendorBill BillFailed(HttpContext context, string vendorRequestId, string endpoint, string model, bool streamed = false) =>
        Bill(context, vendorRequestId, endpoint, model, 0, 0, BillOutcome.Failed, streamed);
}
