using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters;

/// <summary>The OpenAI-shaped responses adapters hand back to the gateway.</summary>
public static class AdapterResponse
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    public static HttpResponseMessage Json(JsonNode body) => new(HttpStatusCode.OK)
    {
        Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Serializer)) { Headers = { ContentType = JsonType } },
    };

    /// <summary>
    /// Turns translated chunks into an SSE response. The first chunk is awaited here: a vendor that fails before
    /// producing anything (an error status, an error frame, a refused handshake) yields a plain error response,
    /// so the gateway can still fall back; nothing has reached the client yet. After that, a
    /// <see cref="VendorError"/> becomes an OpenAI error event (and no <c>[DONE]</c>), and a lost connection an
    /// <see cref="IOException"/> that the relay reports as a broken stream.
    /// </summary>
    /// <param name="onDispose">releases what the translator holds (the vendor response, a socket).</param>
    public static async Task<HttpResponseMessage> StreamAsync(IAsyncEnumerable<OpenAIChunk> chunks, IDisposable? onDispose, CancellationToken ct)
    {
        var enumerator = chunks.GetAsyncEnumerator(ct);
        bool any;
        try
        {
            any = await enumerator.MoveNextAsync();
        }
        catch (VendorError e)
        {
            await enumerator.DisposeAsync();
            onDispose?.Dispose();
            return e.ToResponse();
        }
        catch
        {
            await enumerator.DisposeAsync();
            onDispose?.Dispose();
            throw;
        }
        var content = new StreamContent(new TranslatedStream(enumerator, any, onDispose));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    /// <summary>A read-only stream that serializes chunks as SSE events on demand (no buffering task). One buffer and one
    /// JSON writer serve every event of the stream.</summary>
    private sealed class TranslatedStream(IAsyncEnumerator<OpenAIChunk> chunks, bool hasCurrent, IDisposable? onDispose) : Stream
    {
        private readonly ArrayBufferWriter<byte> _event = new(1024);
        private int _offset;
        private bool _pendingCurrent = hasCurrent;
        private bool _exhausted = !hasCurrent;
        private bool _ended;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_offset == _event.WrittenCount)
            {
                if (_ended)
                {
                    return 0;
                }
                await NextAsync();
            }
            var n = Math.Min(buffer.Length, _event.WrittenCount - _offset);
            _event.WrittenMemory.Slice(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        private async Task NextAsync()
        {
            _event.ResetWrittenCount();
            _offset = 0;
            try
            {
                var has = _pendingCurrent || (!_exhausted && await chunks.MoveNextAsync());
                _pendingCurrent = false;
                if (!has)
                {
                    _exhausted = true;
                    _event.Write("data: [DONE]\n\n"u8);
                    _ended = true;
                    return;
                }
                Write(chunks.Current);
            }
            catch (VendorError e)
            {
                // Headers are gone: the clean end is an error event and no [DONE].
                _event.ResetWrittenCount();
                _event.Write("data: "u8);
                _event.Write(new OpenAIError(e.Status, e.Message, "upstream_error", null, e.Code).ToJson());
                _event.Write("\n\n"u8);
                _ended = true;
            }
            catch (Exception e) when (e is HttpRequestException or System.Net.WebSockets.WebSocketException or JsonException)
            {
                throw new IOException("the vendor stream broke: " + e.Message, e);
            }
        }

        private void Write(OpenAIChunk chunk)
        {
            _event.Write("data: "u8);
            _event.Write(chunk.Json.Span);
            _event.Write("\n\n"u8);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await chunks.DisposeAsync();
            onDispose?.Dispose();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                    chunks.DisposeAsync().AsTask().GetAwaiter().GetResult();
                onDispose?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
