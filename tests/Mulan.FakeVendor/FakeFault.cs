namespace Mulan.FakeVendor;

/// <summary>
/// A one-shot misbehaviour queued with <see cref="FakeVendorServer.Enqueue"/>. It is taken by the
/// next authenticated chat/embeddings request whose body parses, and wins over the model's options.
/// </summary>
public abstract record FakeFault
{
    // Only the nested records below: the server must know how to apply every kind.
    private protected FakeFault()
    {
    }

    /// <summary>Answer with this HTTP status and an OpenAI error object; <c>Retry-After</c> only if given.</summary>
    public sealed record Status(int Code, int? RetryAfterSeconds = null) : FakeFault;

    /// <summary>Wait this long before sending response headers (adds to <c>firstbyte=</c>).</summary>
    public sealed record SlowFirstByte(TimeSpan Delay) : FakeFault;

    /// <summary>
    /// Streams: role chunk plus this many deltas, then abort the TCP connection.
    /// Non-streaming: abort the connection before any response byte.
    /// </summary>
    public sealed record ResetAfter(int Chunks) : FakeFault;

    /// <summary>Streams: after this many deltas send an SSE error event (with this message, if given) and end the response.</summary>
    public sealed record ErrorEvent(int AfterChunks, string? Message = null) : FakeFault;
}
