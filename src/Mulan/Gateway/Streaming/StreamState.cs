using System.Buffers;
using Mulan.Gateway.Metering;

namespace Mulan.Gateway.Streaming;

/// <summary>What one relayed stream has seen so far.</summary>
internal sealed class StreamState(bool clientWantsUsage)
{
    // Bounds the memory kept for estimating output tokens of a stream that never reports usage.
    private const int MaxKeptBytes = 16 * 1024 * 1024;
    private readonly ArrayBufferWriter<byte> _kept = new(4096);
    private readonly List<(int Start, int Length)> _chunks = [];

    public bool ClientWantsUsage { get; } = clientWantsUsage;
    public ArrayBufferWriter<byte> Pending { get; } = new(1024);
    public UsageFigures? Usage { get; set; }
    public string? UpstreamError { get; set; }

    /// <summary>Restores the PII guard's placeholders in the chunks, when the request went out masked.</summary>
    public Governance.Pii.PiiChunkRewriter? Pii { get; init; }

    /// <summary>Keeps a chunk's bytes (not parsed now: parsing happens only if the stream ends without usage).</summary>
    public void Keep(ReadOnlySpan<byte> payload)
    {
        if (_kept.WrittenCount + payload.Length > MaxKeptBytes)
        {
            return;
        }
        _chunks.Add((_kept.WrittenCount, payload.Length));
        _kept.Write(payload);
    }

    public IEnumerable<ReadOnlyMemory<byte>> Chunks()
    {
        foreach (var (start, length) in _chunks)
        {
            yield return _kept.WrittenMemory.Slice(start, length);
        }
    }
}
