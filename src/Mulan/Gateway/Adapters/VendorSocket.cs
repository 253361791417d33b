using System.Net.WebSockets;

namespace Mulan.Gateway.Adapters;

/// <summary>What every WebSocket adapter (Spark, iFlytek speech, DashScope speech) sets on its handshake.</summary>
public static class VendorSocket
{
    /// <summary>Handshake details kept (the status of a refused handshake tells auth from the rest), the request id, and the
    /// provider's extra headers.</summary>
    public static void Prepare(ClientWebSocket socket, string requestId, IReadOnlyDictionary<string, string> headers)
    {
        socket.Options.CollectHttpResponseDetails = true;
        // Lets a vendor-side log (and the test vendor's ledger) be matched to Mulan's usage record.
        socket.Options.SetRequestHeader("x-mulan-request-id", requestId);
        foreach (var (name, value) in headers)
        {
            try
            {
                socket.Options.SetRequestHeader(name, value);
            }
            catch (ArgumentException)
            {
                // A header the handshake owns (Host, Upgrade, …) cannot be overridden; the rest still go.
            }
        }
    }
}
