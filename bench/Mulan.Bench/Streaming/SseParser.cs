namespace Mulan.Bench.Streaming;

/// <summary>
/// Splits the bytes of a text/event-stream into events as they arrive, and records each event's kind and the
/// time of the read that completed it. Only the first data line of an event is classified: OpenAI events have one.
/// </summary>
internal sealed class SseParser(StreamTrace trace)
{
    private byte[] _carry = new byte[4096];
    private int _carryLength;
    private SseEventKind? _pending;

    public void Feed(ReadOnlySpan<byte> chunk, long at)
    {
        while (!chunk.IsEmpty)
        {
            var newline = chunk.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Carry(chunk);
                return;
            }

            if (_carryLength > 0)
            {
                Carry(chunk[..newline]);
                Line(_carry.AsSpan(0, _carryLength), at);
                _carryLength = 0;
            }
            else
            {
                Line(chunk[..newline], at);
            }

            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>End of the body: an event without its blank line still counts.</summary>
    public void End(long at)
    {
        if (_pending is { } kind)
        {
            trace.Add(kind, at);
            _pending = null;
        }
    }

    public static SseEventKind Classify(ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return SseEventKind.Done;
        }

        if (data.StartsWith("{\"error\""u8))
        {
            return SseEventKind.Error;
        }

        var content = data.IndexOf("\"content\":\""u8);
        if (content >= 0 && content + 11 < data.Length && data[content + 11] != (byte)'"')
        {
            return SseEventKind.Content;
        }

        if (data.IndexOf("\"finish_reason\":\""u8) >= 0)
        {
            return SseEventKind.Finish;
        }

        if (data.IndexOf("\"choices\":[]"u8) >= 0)
        {
            return SseEventKind.Usage;
        }

        return data.IndexOf("\"role\":\"assistant\""u8) >= 0 ? SseEventKind.Role : SseEventKind.Other;
    }

    private void Line(ReadOnlySpan<byte> line, long at)
    {
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.IsEmpty)
        {
            End(at);
        }
        else if (line.StartsWith("data:"u8) && _pending is null)
        {
            var data = line[5..];
            _pending = Classify(data.IsEmpty || data[0] != (byte)' ' ? data : data[1..]);
        }

        // Comments (": ping"), event:, id: and retry: lines carry nothing measured here.
    }

    private void Carry(ReadOnlySpan<byte> part)
    {
        if (_carryLength + part.Length > _carry.Length)
        {
            Array.Resize(ref _carry, Math.Max(_carry.Length * 2, _carryLength + part.Length));
        }

        part.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += part.Length;
    }
}
