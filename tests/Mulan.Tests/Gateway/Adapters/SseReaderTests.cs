using System.Text;
using Mulan.Gateway.Adapters;

namespace Mulan.Tests.Gateway.Adapters;

/// <summary>The lenient SSE reader shared by the adapters.</summary>
public sealed class SseReaderTests
{
    private static async Task<List<SseEvent>> ReadAsync(string text)
    {
        var events = new List<SseEvent>();
        await foreach (var e in SseReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), CancellationToken.None))
        {
            events.Add(e);
        }
        return events;
    }

    [Fact]
    public async Task Names_spaces_comments_crlf_and_multi_line_data()
    {
        var events = await ReadAsync(
            "id:1\r\nevent:result\r\n:HTTP_STATUS/200\r\ndata:{\"a\":1}\r\n\r\n" +
            ": keep-alive\n\n" +
            "event: result\ndata: line one\ndata: line two\ndata:\n\n" +
            "data: no name\n\n" +
            "data: cut off at the end");
        Assert.Equal(
            [new SseEvent("result", "{\"a\":1}"), new SseEvent("result", "line one\nline two\n"), new SseEvent(null, "no name"), new SseEvent(null, "cut off at the end")],
            events);
    }

    [Fact]
    public async Task An_endless_event_is_refused()
    {
        var line = "data: " + new string('x', 1024 * 1024) + "\n";
        await Assert.ThrowsAsync<IOException>(() => ReadAsync(string.Concat(Enumerable.Repeat(line, 9)) + "\n"));
    }
}
