using System.Text;

namespace Mulan.FakeVendor.Native;

/// <summary>The texts of one native embeddings request, and the vector size asked for.</summary>
internal sealed record EmbeddingCall(string Model, IReadOnlyList<string> Texts, int Dimensions);

/// <summary>
/// An embeddings endpoint of a native protocol. The flow is the OpenAI fake's embeddings flow (auth, parse, queued
/// fault, model options <c>fail=</c>/<c>quota</c>/<c>filter</c>/<c>firstbyte=</c>/<c>reset=</c>/<c>nousage</c>,
/// bill between write and flush); vectors are the shared deterministic ones, so the same text always gets the same
/// vector; a protocol supplies parsing, its error words and its body.
/// </summary>
internal abstract class NativeEmbeddings : NativeProtocol
{
    protected override string Endpoint => "embeddings";

    /// <summary>Reads the request; null with <paramref name="error"/> set when the vendor would refuse it.</summary>
    protected abstract EmbeddingCall? ParseEmbeddings(HttpContext context, ReadOnlyMemory<byte> body, out string error);

    /// <param name="tokens">the billed tokens, or null when the answer carries no usage (<c>+nousage</c>).</param>
    protected abstract byte[] EmbeddingsBody(string id, EmbeddingCall call, IReadOnlyList<float[]> vectors, int? tokens);

    public override async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var id = state.NextId("emb-");
        context.Response.Headers["x-request-id"] = id;
        if (!Authorized(context, body, state))
        {
            state.BillFailed(context, id, Endpoint, ChatRequest.SniffModel(body));
            await WriteErrorAsync(context, FakeErrorKind.Auth, 401, "invalid credentials", null);
            return;
        }
        var call = ParseEmbeddings(context, body, out var parseError);
        if (call is null)
        {
            state.BillFailed(context, id, Endpoint, "");
            await WriteErrorAsync(context, FakeErrorKind.BadRequest, 400, parseError, null);
            return;
        }
        var fault = state.TakeFault();
        if (fault is FakeFault.Status status)
        {
            state.BillFailed(context, id, Endpoint, call.Model);
            await WriteErrorAsync(context, KindOf(status.Code), status.Code, $"injected HTTP {status.Code}", status.RetryAfterSeconds);
            return;
        }
        if (!ModelSpec.TryParse(call.Model, out var spec, out var specError))
        {
            state.BillFailed(context, id, Endpoint, call.Model);
            await WriteErrorAsync(context, FakeErrorKind.BadRequest, 400, specError, null);
            return;
        }
        spec = spec.With(fault);
        if (spec.FailStatus is { } code)
        {
            state.BillFailed(context, id, Endpoint, call.Model);
            await WriteErrorAsync(context, KindOf(code), code, $"injected HTTP {code}", code == 429 ? 1 : null);
            return;
        }
        if (spec.Quota || spec.Filter)
        {
            state.BillFailed(context, id, Endpoint, call.Model);
            await WriteErrorAsync(context, spec.Quota ? FakeErrorKind.Quota : FakeErrorKind.ContentFilter, 0, spec.Quota ? "quota exhausted" : "content blocked", null);
            return;
        }
        var tokens = call.Texts.Sum(O200k.Count);
        if (!await ChatHandler.DelayAsync(context, spec.FirstByteMs))
        {
            state.Bill(context, id, Endpoint, call.Model, tokens, 0, BillOutcome.ClientAborted);
            return;
        }
        if (spec.ResetAfter is not null)
        {
            state.Bill(context, id, Endpoint, call.Model, tokens, 0, BillOutcome.Reset);
            context.Abort();
            return;
        }
        var vectors = call.Texts.Select(text =>
        {
            var vector = new float[call.Dimensions];
            EmbeddingVectors.Fill(EmbeddingVectors.Seed(Encoding.UTF8.GetBytes(text)), vector);
            return vector;
        }).ToList();
        var bytes = EmbeddingsBody(id, call, vectors, spec.NoUsage ? null : tokens);
        context.Response.ContentType = "application/json";
        if (!Http.Write(context, bytes))
        {
            state.Bill(context, id, Endpoint, call.Model, tokens, 0, BillOutcome.ClientAborted);
            return;
        }
        var bill = state.Bill(context, id, Endpoint, call.Model, tokens, 0, BillOutcome.Completed, usageSent: !spec.NoUsage);
        if (!await Http.FlushAsync(context))
        {
            state.MarkClientAborted(bill);
        }
    }

    // The chat side of NativeProtocol: an embeddings endpoint has no turn, reply or stream.
    protected sealed override NativeTurn? Parse(HttpContext context, ReadOnlyMemory<byte> body, out string error) => throw new NotSupportedException();

    protected sealed override byte[] Completion(string id, NativeReply reply) => throw new NotSupportedException();

    protected sealed override string StreamContentType => throw new NotSupportedException();

    protected sealed override byte[] StreamStart(string id, NativeReply reply) => throw new NotSupportedException();

    protected sealed override byte[] TextFrame(string id, NativeReply reply, int index) => throw new NotSupportedException();

    protected sealed override IEnumerable<(byte[] Frame, int Tokens)> ToolFrames(string id, NativeReply reply, int call) => throw new NotSupportedException();

    protected sealed override byte[] StreamEnd(string id, NativeReply reply, int completionTokens) => throw new NotSupportedException();

    protected sealed override byte[] StreamError(string id) => throw new NotSupportedException();
}
