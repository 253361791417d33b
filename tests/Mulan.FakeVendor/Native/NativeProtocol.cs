using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Mulan.FakeVendor.Native;

/// <summary>
/// One vendor's HTTP protocol on the fake server. The base class runs the shared flow in the same order as the
/// OpenAI fake (parse, queued fault, model options, first-byte delay, reply) and bills every request in the
/// shared ledger; a protocol supplies its paths, authentication, parsing and the bytes of its frames.
/// </summary>
internal abstract class NativeProtocol
{
    public abstract bool Serves(HttpRequest request);

    /// <summary>Checks the vendor's credentials (a header, a signature) against the fake's key.</summary>
    protected abstract bool Authorized(HttpContext context, ReadOnlyMemory<byte> body, VendorState state);

    /// <summary>Reads the vendor request; null with <paramref name="error"/> set when the vendor would refuse it.</summary>
    protected abstract NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error);

    /// <summary>Writes the vendor's error response for a failure class (status, body and headers as it sends them).</summary>
    protected abstract Task WriteErrorAsync(HttpContext context, FakeErrorKind kind, int status, string message, int? retryAfterSeconds);

    protected abstract byte[] Completion(string id, NativeReply reply);

    protected abstract string StreamContentType { get; }

    /// <summary>Frames before the first delta (e.g. Anthropic's <c>message_start</c>); may be empty.</summary>
    protected abstract byte[] StreamStart(string id, NativeReply reply);

    protected abstract byte[] TextFrame(string id, NativeReply reply, int index);

    /// <summary>Frames of tool call <paramref name="call"/>, in order; each frame's token count as billed.</summary>
    protected abstract IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call);

    protected abstract byte[] StreamEnd(string id, NativeReply reply, int completionTokens);

    protected abstract byte[] StreamError(string id);

    protected virtual string Endpoint => "chat";

    /// <summary>A fake refused before the model runs (bad body, auth): each vendor's own error shape.</summary>
    public virtual async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var id = state.NextId(Endpoint == "chat" ? "native-" : "emb-");
        context.Response.Headers["x-request-id"] = id;
        if (!Authorized(context, body, state))
        {
            state.BillFailed(context, id, Endpoint, ChatRequest.SniffModel(body));
            await WriteErrorAsync(context, FakeErrorKind.Auth, 401, "invalid credentials", null);
            return;
        }
        var turn = Parse(context, body, out var parseError);
        if (turn is null)
        {
            state.BillFailed(context, id, Endpoint, "");
            await WriteErrorAsync(context, FakeErrorKind.BadRequest, 400, parseError, null);
            return;
        }
        var fault = state.TakeFault();
        if (fault is FakeFault.Status status)
        {
            state.BillFailed(context, id, Endpoint, turn.Model, turn.Stream);
            await WriteErrorAsync(context, KindOf(status.Code), status.Code, $"injected HTTP {status.Code}", status.RetryAfterSeconds);
            return;
        }
        if (!ModelSpec.TryParse(turn.Model, out var spec, out var specError))
        {
            state.BillFailed(context, id, Endpoint, turn.Model, turn.Stream);
            await WriteErrorAsync(context, FakeErrorKind.BadRequest, 400, specError, null);
            return;
        }
        spec = spec.With(fault);
        if (spec.FailStatus is { } code)
        {
            state.BillFailed(context, id, Endpoint, turn.Model, turn.Stream);
            await WriteErrorAsync(context, KindOf(code), code, $"injected HTTP {code}", code == 429 ? 1 : null);
            return;
        }
        if (spec.Quota || spec.Filter)
        {
            state.BillFailed(context, id, Endpoint, turn.Model, turn.Stream);
            await WriteErrorAsync(context, spec.Quota ? FakeErrorKind.Quota : FakeErrorKind.ContentFilter, 0, spec.Quota ? "quota exhausted" : "content blocked", null);
            return;
        }
        if (!await ChatHandler.DelayAsync(context, spec.FirstByteMs))
        {
            state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, 0, BillOutcome.ClientAborted, turn.Stream);
            return;
        }
        var reply = new NativeReply(turn, spec);
        if (!turn.Stream)
        {
            if (spec.ResetAfter is not null)
            {
                state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, 0, BillOutcome.Reset);
                context.Abort();
                return;
            }
            var bytes = Completion(id, reply);
            context.Response.ContentType = "application/json";
            state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, reply.CompletionTokens, BillOutcome.Completed, usageSent: !spec.NoUsage);
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
            return;
        }
        await StreamAsync(context, state, id, reply, spec);
    }

    private async Task StreamAsync(HttpContext context, VendorState state, string id, NativeReply reply, ModelSpec spec)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = StreamContentType;
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var turn = reply.Turn;
        var tokens = 0;
        var frames = new List<(byte[] Frame, int Tokens)>();
        if (reply.Tools)
        {
            for (var c = 0; c < NativeReply.ToolCalls.Count; c++)
            {
                frames.AddRange(ToolFrames(id, reply, c));
            }
        }
        else
        {
            for (var i = 0; i < reply.Words.Count; i++)
            {
                frames.Add((TextFrame(id, reply, i), 1));
            }
        }
        if (!await SendAsync(context, StreamStart(id, reply)))
        {
            state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, 0, BillOutcome.ClientAborted, streamed: true);
            return;
        }
        for (var i = 0; ; i++)
        {
            if (spec.ResetAfter is { } reset && i == Math.Min(reset, frames.Count))
            {
                state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, tokens, BillOutcome.Reset, streamed: true);
                await Task.Delay(50, CancellationToken.None);
                context.Abort();
                return;
            }
            if (spec.ErrorEventAfter is { } errorAt && i == Math.Min(errorAt, frames.Count))
            {
                state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, tokens, BillOutcome.Failed, streamed: true);
                await SendAsync(context, StreamError(id));
                return;
            }
            if (i == frames.Count)
            {
                break;
            }
            if (!await ChatHandler.DelayAsync(context, spec.GapMs) || !await SendAsync(context, frames[i].Frame))
            {
                state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, tokens, BillOutcome.ClientAborted, streamed: true);
                return;
            }
            tokens += frames[i].Tokens;
        }
        var bill = state.Bill(context, id, Endpoint, turn.Model, turn.PromptTokens, tokens, BillOutcome.Completed, streamed: true, usageSent: !spec.NoUsage);
        if (!await SendAsync(context, StreamEnd(id, reply, tokens)))
        {
            state.MarkClientAborted(bill);
        }
    }

    private static async Task<bool> SendAsync(HttpContext context, byte[] frame)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }
        if (frame.Length == 0)
        {
            return true;
        }
        try
        {
            context.Response.BodyWriter.Write(frame);
            var result = await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            return !result.IsCanceled && !context.RequestAborted.IsCancellationRequested;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            return false;
        }
    }

    internal static FakeErrorKind KindOf(int status) => status switch
    {
        401 or 403 => FakeErrorKind.Auth,
        429 => FakeErrorKind.RateLimit,
        503 or 529 => FakeErrorKind.Overloaded,
        >= 500 => FakeErrorKind.Server,
        _ => FakeErrorKind.BadRequest,
    };

    /// <summary>An SSE event with an optional name.</summary>
    protected static byte[] Sse(string? name, string json) =>
        System.Text.Encoding.UTF8.GetBytes((name is null ? "" : $"event: {name}\n") + $"data: {json}\n\n");
}
