using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;

namespace Mulan.Gateway.Adapters.Ollama;

/// <summary>
/// Reads newline-delimited JSON (one object per line, LF or CRLF, blank lines skipped). A line longer than
/// <see cref="MaxLineBytes"/> is refused rather than buffered without end; a last line without its newline is
/// still returned, so the caller decides whether the stream was complete.
/// </summary>
public static class NdjsonReader
{
    public const int MaxLineBytes = 8 * 1024 * 1024;

    public static async IAsyncEnumerable<string> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct, int maxLineBytes = MaxLineBytes)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct);
                var buffer = result.Buffer;
                var lines = new List<string>();
                while (TryReadLine(ref buffer, out var line))
                {
                    if (line.Length > maxLineBytes)
                    {
                        throw new IOException($"a stream line exceeded {maxLineBytes} bytes");
                    }
                    if (Decode(line) is { Length: > 0 } text)
                    {
                        lines.Add(text);
                    }
                }
                if (buffer.Length > maxLineBytes)
                {
                    throw new IOException($"a stream line exceeded {maxLineBytes} bytes");
                }
                var rest = result.IsCompleted && buffer.Length > 0 ? Decode(buffer) : null;
                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var text in lines)
                {
                    yield return text;
                }
                if (result.IsCompleted)
                {
                    if (rest is { Length: > 0 })
                    {
                        yield return rest;
                    }
                    yield break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, end);
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        return true;
    }

    private static string Decode(ReadOnlySequence<byte> line)
    {
        var text = Encoding.UTF8.GetString(line);
        return text.Trim('\r', ' ', '\t');
    }
}
