using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Mulan.FakeVendor;

/// <summary>
/// One streamed reply. Every event is written straight into Kestrel's pipe from prebuilt bytes
/// and flushed on its own, so the client sees each delta as soon as it is "generated"; the
/// token count only grows once a flush succeeded while the client was still there.
/// </summary>
internal sealed class ChatStream
{
    private const string Endpoint = "chat";

    private readonly HttpContext _context;
    private readonly VendorState _state;
    private readonly string _id;
    private readonly ChatRequest _request;
    private readonly ModelSpec _spec;
    private readonly PipeWriter _pipe;
    private readonly CancellationToken _aborted;
    private readonly bool _usageChunk;
    private readonly StreamFrames _frames;
    private readonly byte[][] _toolHeaders;
    private int _tokens;
    private bool _usageSent;
    private VendorBill? _bill;

    public ChatStream(HttpContext context, VendorState state, string id, ChatRequest request, ModelSpec spec)
    {
        _context = context;
        _state = state;
        _id = id;
        _request = request;
        _spec = spec;
        _pipe = context.Response.BodyWriter;
        _aborted = context.RequestAborted;

        // Moonshot style carries usage in the finish chunk instead; nousage sends none at all.
        _usageChunk = request.IncludeUsage && !spec.NoUsage && !spec.Moonshot;
        _frames = new StreamFrames(id, request.Model, usageNull: _usageChunk);
        _toolHeaders = spec.Tools ? [ToolCallScript.HeaderDelta(id, 0), ToolCallScript.HeaderDelta(id, 1)] : [];
    }

    private enum Frame
    {
        Chunk,
        Finish,
        UsageChunk,
        Error,
        Done,
    }

    public async Task RunAsync()
    {
        var response = _context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        _context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var outcome = await StreamAsync();
        if (_bill is null)
        {
            Bill(outcome);
        }
        else if (outcome == BillOutcome.ClientAborted)
        {
            _state.MarkClientAborted(_bill);
        }
    }

    private void Bill(string outcome) =>
        _bill = _state.Bill(_context, _id, Endpoint, _request.Model, _request.PromptTokens, _tokens, outcome, streamed: true, _usageSent);

    private async Task<string> StreamAsync()
    {
        if (!await SendAsync(Frame.Chunk, StreamFrames.RoleDelta))
        {
            return BillOutcome.ClientAborted;
        }

        var count = _spec.Tools ? ToolCallScript.FragmentCount : _spec.Echo ? (_request.LastUserText.Length + 2) / 3 : _spec.Chunks;
        for (var i = 0; ; i++)
        {
            // reset/errorevent past the end of the reply fire after the last delta.
            if (_spec.ResetAfter is { } reset && i == Math.Min(reset, count))
            {
                Bill(BillOutcome.Reset); // billed first: the client sees the reset right after
                // A real mid-stream reset follows bytes the receiver has long read. Aborting at once lets the RST
                // overtake the last flushed chunks, and a kernel discards unread data when a RST arrives.
                await Task.Delay(50, CancellationToken.None);
                _context.Abort();
                return BillOutcome.Reset;
            }

            if (_spec.ErrorEventAfter is { } errorAt && i == Math.Min(errorAt, count))
            {
                return await SendAsync(Frame.Error, billAs: BillOutcome.Failed) ? BillOutcome.Failed : BillOutcome.ClientAborted;
            }

            if (i == count)
            {
                break;
            }

            if (!await ChatHandler.DelayAsync(_context, _spec.GapMs))
            {
                return BillOutcome.ClientAborted;
            }

            var (delta, tokens) = Fragment(i);
            if (!await SendAsync(Frame.Chunk, delta))
            {
                return BillOutcome.ClientAborted;
            }

            _tokens += tokens;
        }

        if (!await SendAsync(Frame.Finish))
        {
            return BillOutcome.ClientAborted;
        }

        _usageSent = _spec.Moonshot && !_spec.NoUsage;
        if (_usageChunk)
        {
            if (!await SendAsync(Frame.UsageChunk))
            {
                return BillOutcome.ClientAborted;
            }

            _usageSent = true;
        }

        return await SendAsync(Frame.Done, billAs: BillOutcome.Completed) ? BillOutcome.Completed : BillOutcome.ClientAborted;
    }

    /// <summary>Delta <paramref name="i"/> of the reply and the tokens it carries.</summary>
    private (byte[] Delta, int Tokens) Fragment(int i)
    {
        if (_spec.Echo)
        {
            var text = _request.LastUserText;
            var piece = text.Substring(i * 3, Math.Min(3, text.Length - (i * 3)));
            return (System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { content = piece })), 1);
        }

        if (!_spec.Tools)
        {
            return (ReplyVocabulary.Delta(ReplyVocabulary.Index(_request.ReplyStart, i)), 1);
        }

        for (var c = 0; c < ToolCallScript.Calls.Length; c++)
        {
            var call = ToolCallScript.Calls[c];
            if (i == 0)
            {
                return (_toolHeaders[c], call.NameTokens);
            }

            if (i <= call.Pieces.Length)
            {
                return (call.PieceDeltas[i - 1], 1);
            }

            i -= 1 + call.Pieces.Length;
        }

        throw new ArgumentOutOfRangeException(nameof(i));
    }

    /// <summary>
    /// Writes one event and flushes it. False when the client is gone: checked before writing
    /// and again after the flush, because Kestrel quietly drops writes to a dead connection.
    /// The last event is billed (as <paramref name="billAs"/>) between write and flush, so the
    /// bill exists by the time the client has read the end of the stream.
    /// </summary>
    private async ValueTask<bool> SendAsync(Frame frame, byte[]? delta = null, string? billAs = null)
    {
        if (_aborted.IsCancellationRequested)
        {
            return false;
        }

        try
        {
            var finish = new StreamFrames.Finish(
                _spec.Tools ? StreamFrames.ToolCallsReason : StreamFrames.StopReason,
                WithUsage: _spec.Moonshot && !_spec.NoUsage,
                _request.PromptTokens,
                _tokens);
            switch (frame)
            {
                case Frame.Chunk:
                    _frames.WriteChunk(_pipe, delta);
                    break;
                case Frame.Finish:
                    _frames.WriteFinish(_pipe, finish);
                    break;
                case Frame.UsageChunk:
                    _frames.WriteUsageChunk(_pipe, finish);
                    break;
                case Frame.Error when _spec.ErrorEventMessage is { } message:
                    _pipe.Write(System.Text.Encoding.UTF8.GetBytes("data: " + System.Text.Json.JsonSerializer.Serialize(
                        new { error = new { message, type = "server_error", param = (string?)null, code = (string?)null } }) + "\n\n"));
                    break;
                case Frame.Error:
                    _pipe.Write(StreamFrames.ErrorEvent);
                    break;
                case Frame.Done:
                    _pipe.Write(StreamFrames.Done);
                    break;
            }

            if (billAs is not null)
            {
                Bill(billAs);
            }

            var result = await _pipe.FlushAsync(_aborted);
            return !result.IsCanceled && !_aborted.IsCancellationRequested;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
