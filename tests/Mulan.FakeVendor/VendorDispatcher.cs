namespace Mulan.FakeVendor;

/// <summary>
/// The whole app is this one terminal middleware: a switch on the path is all the routing a
/// handful of fixed URLs need, and it costs less per request than endpoint routing.
/// </summary>
internal sealed class VendorDispatcher(VendorState state)
{
    public const string ChatPath = "/v1/chat/completions";
    public const string EmbeddingsPath = "/v1/embeddings";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";

        // The control plane (/_ledger) is neither recorded nor authenticated: it is how tests
        // and the benchmark look at the fake, not part of what the gateway talks to.
        if (path.StartsWith("/_", StringComparison.Ordinal))
        {
            await ControlEndpoints.HandleAsync(context, state, path);
            return;
        }

        using var body = HttpMethods.IsPost(request.Method) ? await RequestBody.ReadAsync(context) : RequestBody.Empty;
        if (state.RecordRequests)
        {
            Record(context, path, body);
        }

        if (Native.NativeProtocols.Find(request) is { } native)
        {
            await native.HandleAsync(context, state, body.Memory);
            return;
        }

        var endpoint = (request.Method, path) switch
        {
            ("POST", ChatPath) => "chat",
            ("POST", EmbeddingsPath) => "embeddings",
            ("POST", Speech.OpenAIAudioFake.TranscriptionsPath) => "transcriptions",
            ("POST", Speech.OpenAIAudioFake.SpeechPath) => "speech",
            _ => null,
        };

        if (path.StartsWith("/v1/", StringComparison.Ordinal) && !IsAuthorized(context))
        {
            if (endpoint is "chat" or "embeddings")
            {
                state.BillFailed(context, state.NextId(endpoint == "chat" ? "chatcmpl-" : "emb-"), endpoint, ChatRequest.SniffModel(body.Memory));
            }

            await OpenAiErrors.WriteAsync(context, OpenAiErrors.InvalidKey);
            return;
        }

        switch (endpoint)
        {
            case "chat":
                await ChatHandler.HandleAsync(context, state, body.Memory);
                break;
            case "embeddings":
                await EmbeddingsHandler.HandleAsync(context, state, body.Memory);
                break;
            case "transcriptions":
                await Speech.OpenAIAudioFake.TranscribeAsync(context, state, body.Memory);
                break;
            case "speech":
                await Speech.OpenAIAudioFake.SpeakAsync(context, state, body.Memory);
                break;
            case null when HttpMethods.IsGet(request.Method) && path == "/v1/models":
                await Http.WriteJsonAsync(context, ModelList.Utf8);
                break;
            default:
                await OpenAiErrors.WriteAsync(context, OpenAiErrors.NotFound(request.Method, path));
                break;
        }
    }

    private bool IsAuthorized(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        return header.Count == 1 && string.Equals(header[0], state.ExpectedAuthorization, StringComparison.Ordinal);
    }

    private void Record(HttpContext context, string path, RequestBody body)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in context.Request.Headers)
        {
            headers[name] = value.ToString();
        }

        state.Requests.Add(new ReceivedRequest(context.Request.Method, path, headers, body.Memory.ToArray(), DateTimeOffset.UtcNow));
    }
}
