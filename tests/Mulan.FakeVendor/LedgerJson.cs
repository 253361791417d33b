using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>
/// Bills as JSON with camelCase names, so <c>JsonSerializer.Deserialize&lt;VendorBill[]&gt;(json,
/// JsonSerializerOptions.Web)</c> reads them straight back.
/// </summary>
internal static class LedgerJson
{
    public static void Write(Utf8JsonWriter json, IReadOnlyList<VendorBill> bills)
    {
        json.WriteStartArray();
        foreach (var bill in bills)
        {
            json.WriteStartObject();
            json.WriteString("vendorRequestId", bill.VendorRequestId);
            json.WriteString("mulanRequestId", bill.MulanRequestId);
            json.WriteString("endpoint", bill.Endpoint);
            json.WriteString("model", bill.Model);
            json.WriteNumber("promptTokens", bill.PromptTokens);
            json.WriteNumber("completionTokens", bill.CompletionTokens);
            json.WriteNumber("totalTokens", bill.TotalTokens);
            json.WriteString("outcome", bill.Outcome);
            json.WriteBoolean("streamed", bill.Streamed);
            json.WriteBoolean("usageSent", bill.UsageSent);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.Flush();
    }
}
