namespace Mulan.Bench.Streaming;

/// <summary>What an OpenAI chat-completion SSE event carries, as far as the benchmark cares.</summary>
internal enum SseEventKind
{
    /// <summary>The first chunk: <c>"role":"assistant"</c> and empty content.</summary>
    Role,

    /// <summary>A delta with non-empty content: one "token" of the fake vendor.</summary>
    Content,

    /// <summary>The chunk with a <c>finish_reason</c>.</summary>
    Finish,

    /// <summary>A usage-only chunk (<c>"choices":[]</c>).</summary>
    Usage,

    /// <summary><c>data: [DONE]</c>.</summary>
    Done,

    /// <summary>An <c>{"error":...}</c> event.</summary>
    Error,

    Other,
}
