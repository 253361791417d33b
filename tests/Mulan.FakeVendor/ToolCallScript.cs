using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>
/// The fixed reply of a <c>+tools</c> model: two parallel calls. Streamed argument pieces are
/// exactly the o200k tokens of the argument text, so a stream cut anywhere bills an exact count.
/// </summary>
internal static class ToolCallScript
{
    public sealed record Call(string Name, string Arguments, int NameTokens, string[] Pieces, byte[][] PieceDeltas);

    public static readonly Call[] Calls = [Make(0, "get_weather", """{"city":"Paris"}"""), Make(1, "get_time", """{"tz":"Europe/Paris"}""")];

    /// <summary>completion_tokens of the whole reply: the names plus the argument text.</summary>
    public static readonly int TotalTokens = Calls.Sum(c => c.NameTokens + c.Pieces.Length);

    /// <summary>Fragments in stream order: per call, its header then each argument piece.</summary>
    public static readonly int FragmentCount = Calls.Sum(c => 1 + c.Pieces.Length);

    public static string CallId(string vendorRequestId, int index) => $"call_{vendorRequestId[(vendorRequestId.IndexOf('-', StringComparison.Ordinal) + 1)..]}_{index}";

    /// <summary>The first fragment of a call: id, type and name, with empty arguments (as OpenAI sends).</summary>
    public static byte[] HeaderDelta(string vendorRequestId, int index)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Json.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartArray("tool_calls");
            json.WriteStartObject();
            json.WriteNumber("index", index);
            json.WriteString("id", CallId(vendorRequestId, index));
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", Calls[index].Name);
            json.WriteString("arguments", "");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The <c>tool_calls</c> array of a non-streaming message.</summary>
    public static void WriteMessageToolCalls(Utf8JsonWriter json, string vendorRequestId)
    {
        json.WriteStartArray("tool_calls");
        for (var i = 0; i < Calls.Length; i++)
        {
            json.WriteStartObject();
            json.WriteString("id", CallId(vendorRequestId, i));
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", Calls[i].Name);
            json.WriteString("arguments", Calls[i].Arguments);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Throws unless each piece is one token and every prefix of the arguments counts exactly.</summary>
    public static void Verify()
    {
        foreach (var call in Calls)
        {
            var prefix = new StringBuilder();
            for (var i = 0; i < call.Pieces.Length; i++)
            {
                prefix.Append(call.Pieces[i]);
                if (O200k.Count(call.Pieces[i]) != 1 || O200k.Count(prefix.ToString()) != i + 1)
                {
                    throw new InvalidOperationException($"Tool argument piece {i} of {call.Name} does not tokenize as one token.");
                }
            }

            if (prefix.ToString() != call.Arguments)
            {
                throw new InvalidOperationException($"Tool argument pieces of {call.Name} do not rebuild the arguments.");
            }
        }
    }

    private static Call Make(int index, string name, string arguments)
    {
        // Cut the argument text where the tokenizer cuts it.
        var tokens = O200k.Tokenizer.EncodeToTokens(arguments, out _);
        var pieces = tokens.Select(t => arguments[t.Offset]).ToArray();
        var deltas = pieces.Select(p => PieceDelta(index, p)).ToArray();
        return new Call(name, arguments, O200k.Count(name), pieces, deltas);
    }

    private static byte[] PieceDelta(int index, string piece)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Json.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartArray("tool_calls");
            json.WriteStartObject();
            json.WriteNumber("index", index);
            json.WriteStartObject("function");
            json.WriteString("arguments", piece);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
