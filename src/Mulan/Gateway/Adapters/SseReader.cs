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
        var data = new StringBuilder();
        var hasData = false;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (hasData)
                {
                    yield return new SseEvent(name, data.ToString());
                }
                name = null;
                data.Clear();
                hasData = false;
                continue;
            }
            if (line[0] == ':')
            {
                continue;
            }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }
            switch (field)
            {
                case "data":
                    if (hasData)
                    {
                        data.Append('\n');
                    }
                    data.Append(value);
                    hasData = true;
                    if (data.Length > MaxEventChars)
                    {
                        throw new IOException($"a stream event exceeded {MaxEventChars} characters");
                    }
                    break;
                case "event":
                    name = value;
                    break;
            }
        }
        if (hasData)
        {
            yield return new SseEvent(name, data.ToString()); // a stream cut right after its last data line
        }
    }
}
