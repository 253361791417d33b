using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mulan.FakeVendor;

/// <summary>Shared JSON writing bits, so hot paths do not allocate a writer per response.</summary>
internal static class Json
{
    /// <summary>
    /// Relaxed escaping writes <c>"</c> as <c>\"</c> and leaves <c>+</c> alone, like OpenAI does;
    /// the default encoder would send <c>fake-chat\u002Bnousage</c> back as the model.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>
    /// A per-thread writer pointed at <paramref name="output"/>. Use it synchronously only
    /// (no await before <c>Flush</c>): another request may take it over after an await.
    /// </summary>
    public static Utf8JsonWriter Writer(IBufferWriter<byte> output)
    {
        if (t_writer is null)
        {
            t_writer = new Utf8JsonWriter(output, WriterOptions);
        }
        else
        {
            t_writer.Reset(output);
        }

        return t_writer;
    }

    /// <summary>A per-thread scratch buffer, emptied; same synchronous-only rule as <see cref="Writer"/>.</summary>
    public static ArrayBufferWriter<byte> Scratch()
    {
        // Keep small buffers for reuse; let a huge one (a 100000-word reply) go back to the GC.
        if (t_buffer is null || t_buffer.Capacity > 1 << 20)
        {
            t_buffer = new ArrayBufferWriter<byte>(16 * 1024);
        }

        t_buffer.ResetWrittenCount();
        return t_buffer;
    }

    public static void WriteUsage(Utf8JsonWriter json, int prompt, int completion)
    {
        json.WriteStartObject();
        json.WriteNumber("prompt_tokens", prompt);
        json.WriteNumber("completion_tokens", completion);
        json.WriteNumber("total_tokens", prompt + completion);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", 0);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details");
        json.WriteNumber("reasoning_tokens", 0);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
