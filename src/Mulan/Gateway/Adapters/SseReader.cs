using System.Runtime.CompilerServices;
using System.Text;

namespace Mulan.Gateway.Adapters;

/// <summary>One server-sent event: its <c>event:</c> name (null if none) and its data lines joined by '\n'.</summary>
public readonly record struct SseEvent(string? Name, string Data);

/// <summary>
/// A lenient SSE reader for vendor streams: <c>data:</c> with or without a space, <c>event:</c>/<c>id:</c> lines,
/// comment lines (<c>:keep-alive</c>, DashScope's <c>:HTTP_STATUS/200</c>) skipped, CRLF or LF. An event larger
/// than <see cref="MaxEventChars"/> is refused rather than buffered without end.
/// </summary>
public static class SseReader
{
    public const int MaxEventChars = 8 * 1024 * 1024;

    public static async IAsyncEnumerable<SseEvent> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024, leaveOpen: true);
        string? name = null;
        string? lastName = null;
        // Most events carry one data line: it is kept as is, and a builder is used only from a second line on.
        string? data = null;
        StringBuilder? lines = null;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null || lines is { Length: > 0 })
                {
                    yield return new SseEvent(name, lines is { Length: > 0 } ? lines.ToString() : data!);
                }
                name = null;
                data = null;
                lines?.Clear();
                continue;
            }
            if (line[0] == ':')
            {
                continue;
            }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line.AsSpan() : line.AsSpan(0, colon);
            var start = colon < 0 ? line.Length : colon + 1 < line.Length && line[colon + 1] == ' ' ? colon + 2 : colon + 1;
            if (field.SequenceEqual("data"))
            {
                if (data is null && lines is not { Length: > 0 })
                {
                    data = line[start..];
                }
                else
                {
                    lines ??= new StringBuilder();
                    if (lines.Length == 0)
                    {
                        lines.Append(data);
                    }
                    lines.Append('\n').Append(line.AsSpan(start));
                }
                if ((lines?.Length ?? data!.Length) > MaxEventChars)
                {
                    throw new IOException($"a stream event exceeded {MaxEventChars} characters");
                }
            }
            else if (field.SequenceEqual("event"))
            {
                // Vendors repeat a handful of names: reuse the last string rather than allocate one per event.
                name = lastName is not null && line.AsSpan(start).SequenceEqual(lastName) ? lastName : lastName = line[start..];
            }
        }
        if (data is not null || lines is { Length: > 0 })
        {
            yield return new SseEvent(name, lines is { Length: > 0 } ? lines.ToString() : data!); // a stream cut right after its last data line
        }
    }
}
