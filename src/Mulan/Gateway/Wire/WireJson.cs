using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mulan.Gateway.Wire;

/// <summary>
/// JSON writing for the wire: non-ASCII text (Chinese above all) and characters like '+' stay as they are
/// instead of becoming \uXXXX escapes, so forwarded bodies keep their size and read like what the client sent.
/// The output is JSON for APIs, never embedded in HTML.
/// </summary>
public static class WireJson
{
    public static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly JsonSerializerOptions Serializer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
