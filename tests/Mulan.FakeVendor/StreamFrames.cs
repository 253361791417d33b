using System.Buffers;
using System.IO.Pipelines;

namespace Mulan.FakeVendor;

/// <summary>
/// The bytes of SSE events for one stream. The chunk head (id, created, model) is built once
/// per stream; everything after it is constant or a prebuilt delta, so a chunk costs three
/// copies into the pipe and no JSON work.
/// </summary>
internal sealed class StreamFrames
{
    public static readonly byte[] RoleDelta = """{"role":"assistant","content":""}"""u8.ToArray();
    public static readonly byte[] ErrorEvent = "data: {\"error\":{\"message\":\"upstream overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"u8.ToArray();
    public static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    public static readonly byte[] StopReason = "stop"u8.ToArray();
    public static readonly byte[] ToolCallsReason = "tool_calls"u8.ToArray();

    private static readonly byte[] ChoiceOpen = """{"index":0,"delta":"""u8.ToArray();
    private static readonly byte[] ChunkClose = ",\"logprobs\":null,\"finish_reason\":null}]}\n\n"u8.ToArray();
    private static readonly byte[] ChunkCloseUsageNull = ",\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"u8.ToArray();
    private static readonly byte[] FinishOpen = "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\""u8.ToArray();
    private static readonly byte[] Quote = "\""u8.ToArray();
    private static readonly byte[] UsageProperty = ""","usage":"""u8.ToArray();
    private static readonly byte[] ChoiceClose = "}]"u8.ToArray();
    private static readonly byte[] UsageNull = ""","usage":null"""u8.ToArray();
    private static readonly byte[] EventEnd = "}\n\n"u8.ToArray();
    private static readonly byte[] EmptyChoicesUsage = """],"usage":"""u8.ToArray();

    /// <summary><c>data: {"id":..,"object":..,"created":..,"model":..,"system_fingerprint":..,"choices":[</c></summary>
    private readonly byte[] _head;
    private readonly bool _usageNull;

    /// <param name="usageNull">Put <c>"usage":null</c> on every chunk before the usage chunk.</param>
    public StreamFrames(string id, string model, bool usageNull)
    {
        _usageNull = usageNull;
        var buffer = Json.Scratch();
        buffer.Write("data: "u8);
        var json = Json.Writer(buffer);
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion.chunk");
        json.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        json.WriteString("model", model);
        json.WriteString("system_fingerprint", "fp_fake");
        json.WriteStartArray("choices");
        json.Flush(); // left open on purpose: each event appends its choice and closes the object
        _head = buffer.WrittenSpan.ToArray();
    }

    /// <summary>What the last content-bearing chunk says.</summary>
    public readonly record struct Finish(byte[] Reason, bool WithUsage, int PromptTokens, int CompletionTokens);

    public void WriteChunk(PipeWriter pipe, ReadOnlySpan<byte> delta)
    {
        pipe.Write(_head);
        pipe.Write(ChoiceOpen);
        pipe.Write(delta);
        pipe.Write(_usageNull ? ChunkCloseUsageNull : ChunkClose);
    }

    /// <summary>The empty-delta chunk with finish_reason; Moonshot-style usage goes inside the choice.</summary>
    public void WriteFinish(PipeWriter pipe, Finish finish)
    {
        pipe.Write(_head);
        pipe.Write(FinishOpen);
        pipe.Write(finish.Reason);
        pipe.Write(Quote);
        if (finish.WithUsage)
        {
            pipe.Write(UsageProperty);
            WriteUsage(pipe, finish);
        }

        pipe.Write(ChoiceClose);
        if (_usageNull)
        {
            pipe.Write(UsageNull);
        }

        pipe.Write(EventEnd);
    }

    /// <summary>The OpenAI usage chunk: <c>"choices":[]</c> and the full usage.</summary>
    public void WriteUsageChunk(PipeWriter pipe, Finish finish)
    {
        pipe.Write(_head);
        pipe.Write(EmptyChoicesUsage);
        WriteUsage(pipe, finish);
        pipe.Write(EventEnd);
    }

    private static void WriteUsage(PipeWriter pipe, Finish finish)
    {
        var json = Json.Writer(pipe);
        Json.WriteUsage(json, finish.PromptTokens, finish.CompletionTokens);
        json.Flush();
    }
}
