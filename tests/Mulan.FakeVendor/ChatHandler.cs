namespace Mulan.FakeVendor;

/// <summary>
/// <c>POST /v1/chat/completions</c>: validation, faults and model options in the order a test
/// can rely on (body, then queued fault, then model options, then first-byte delay), then the
/// streaming or non-streaming writer.
/// </summary>
internal static class ChatHandler
{
    private const string Endpoint = "chat";

    public static async Task HandleAsync(HttpContext context, VendorState state, ReadOnlyMemory<byte> body)
    {
        var id = state.NextId("chatcmpl-");
        context.Response.Headers["x-request-id"] = id;

        if (!ChatRequest.TryParse(body, out var request, out var parseError))
        {
            state.BillFailed(context, id, Endpoint, request.Model);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest(parseError));
            return;
        }

        var fault = state.TakeFault();
        if (fault is FakeFault.Status status)
        {
            state.BillFailed(context, id, Endpoint, request.Model, request.Stream);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.ForStatus(status.Code), status.RetryAfterSeconds);
            return;
        }

        if (!ModelSpec.TryParse(request.Model, out var spec, out var specError))
        {
            state.BillFailed(context, id, Endpoint, request.Model, request.Stream);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.BadRequest(specError));
            return;
        }

        spec = spec.With(fault);
        if (spec.Cite)
        {
            request = request with { LastUserText = CitedReply.For(request.LastUserText) };
        }
        if (spec.FailStatus is { } code)
        {
            state.BillFailed(context, id, Endpoint, request.Model, request.Stream);
            await OpenAiErrors.WriteAsync(context, OpenAiErrors.ForStatus(code), code == 429 ? 1 : null);
            return;
        }

        if (!await DelayAsync(context, spec.FirstByteMs))
        {
            state.Bill(context, id, Endpoint, request.Model, request.PromptTokens, 0, BillOutcome.ClientAborted, request.Stream);
            return;
        }

        if (spec.Agent)
        {
            await AgentReply.WriteAsync(context, state, id, request, body);
        }
        else if (request.Stream)
        {
            await new ChatStream(context, state, id, request, spec).RunAsync();
        }
        else
        {
            await ChatCompletion.WriteAsync(context, state, id, request, spec);
        }
    }

    /// <summary>Waits unless the client leaves first; false means it left.</summary>
    public static async Task<bool> DelayAsync(HttpContext context, int milliseconds)
    {
        if (milliseconds <= 0)
        {
            return !context.RequestAborted.IsCancellationRequested;
        }

        try
        {
            await Task.Delay(milliseconds, context.RequestAborted);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
