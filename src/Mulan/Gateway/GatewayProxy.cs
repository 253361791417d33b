using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Forwarding;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Routing;
using Mulan.Gateway.Streaming;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway;

/// <summary>
/// The <c>/v1</c> request path: authenticate, read and check the body, pick the deployment, forward, meter.
/// The body is parsed once; the upstream's answer is passed through byte for byte (non-streaming) or event
/// by event (streaming).
/// </summary>
public sealed partial class GatewayProxy(
    AccessService access, CatalogState catalog, UpstreamCaller upstream, UsageLedger ledger, TokenCounter tokens,
    StreamRelay relay, DeploymentHealth health, IOptions<GatewayOptions> options, TimeProvider time, ILogger<GatewayProxy> logger)
{
    public const string RequestIdHeader = "x-mulan-request-id";
    /// <summary>Names the provider whose deployment served the request.</summary>
    public const string ProviderHeader = "x-mulan-provider";
    private const long DrainCapBytes = 64L * 1024 * 1024;
    private readonly GatewayOptions _options = options.Value;

    public async Task HandleAsync(HttpContext ctx, GatewayEndpoint endpoint)
    {
        var requestId = KeyMaterial.NewId("req");
        ctx.Response.Headers[RequestIdHeader] = requestId;
        var key = access.Authenticate(BearerToken.Of(ctx.Request));
        if (key is null)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return;
        }
        var x = new Exchange(requestId, key, time.GetUtcNow(), Stopwatch.GetTimestamp(), endpoint);
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            // The gateway enforces its own (configurable) limit below; Kestrel's only stops a body past the drain cap.
            bodyLimit.MaxRequestBodySize = Math.Max(_options.MaxRequestBodyBytes, DrainCapBytes) + 1;
        }
        var (body, tooLarge) = await ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        if (tooLarge)
        {
            await RejectAsync(ctx, x, OpenAIError.TooLarge(_options.MaxRequestBodyBytes));
            return;
        }
        if (body is null)
        {
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, default, 499, "client closed the connection while sending"));
            return;
        }
        var request = GatewayRequest.Parse(endpoint, new ReadOnlySequence<byte>(body), out var error);
        if (error is not null)
        {
            await RejectAsync(ctx, x, error);
            return;
        }
        x.Request = request;
        x.Model = request.Model;
        var snapshot = catalog.Current;
        if (!snapshot.Models.TryGetValue(request.Model, out var route))
        {
            await RejectAsync(ctx, x, OpenAIError.ModelNotFound(request.Model));
            return;
        }
        if (!key.AllowsModel(route.Name))
        {
            await RejectAsync(ctx, x, OpenAIError.ModelNotAllowed(request.Model));
            return;
        }
        // Disabled deployments are out of routing; so are kinds this build cannot call.
        var callable = route.Deployments.All(Callable) ? route.Deployments : [.. route.Deployments.Where(Callable)];
        if (callable.Count == 0)
        {
            var failure = UpstreamFailure.NoAdapter(route);
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
            await failure.WriteAsync(ctx.Response);
            return;
        }
        // The route's strategy order (priority, weighted, lowest-cost, lowest-latency), deployments cooling down after
        // failures last. Each deployment is tried 1 + its retries, up to MaxAttempts deployments: bounded by construction.
        var plan = health.Order(route, callable).Take(_options.MaxAttempts)
            .SelectMany(d => Enumerable.Range(0, 1 + (d.Settings.MaxRetries ?? _options.RetriesPerDeployment)).Select(retry => (Deployment: d, Retry: retry))).ToList();
        var deadline = x.StartedAt + TimeSpan.FromSeconds(_options.TotalDeadlineSeconds);
        for (var i = 0; i < plan.Count; i++)
        {
            var (deployment, _) = plan[i];
            if (i > 0 && time.GetUtcNow() >= deadline)
            {
                await AnswerDeadlineAsync(ctx, x);
                return;
            }
            x.Deployment = deployment;
            x.RetryAfter = null;
            x.SkipRetries = false;
            if (await ForwardAsync(ctx, x, request, deployment, canFallBack: i + 1 < plan.Count, deadline) == Attempt.Done)
            {
                return;
            }
            if (x.SkipRetries)
            {
                // Credentials, quota or a missing endpoint: retrying the same deployment cannot help.
                while (i + 1 < plan.Count && ReferenceEquals(plan[i + 1].Deployment, deployment))
                {
                    i++;
                }
                if (i + 1 == plan.Count)
                {
                    await AnswerAsync(ctx, x, x.PendingFailure!);
                    return;
                }
            }
            var next = plan[i + 1];
            if (!ReferenceEquals(next.Deployment, deployment))
            {
                LogFallback(logger, x.RequestId, deployment.Provider.Name, next.Deployment.Provider.Name);
                continue;
            }
            var delay = RetryDelay(next.Retry, x.RetryAfter);
            if (time.GetUtcNow() + delay >= deadline)
            {
                await AnswerDeadlineAsync(ctx, x);
                return;
            }
            LogRetry(logger, x.RequestId, deployment.Provider.Name, (int)delay.TotalMilliseconds);
            try
            {
                await Task.Delay(delay, time, ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, default, 499, "client closed the connection while the gateway waited to retry"));
                return;
            }
        }
    }

    private static bool Callable(Deployment d) => d.Settings.Enabled && d.Provider.Kind.HasAdapter;

    private async Task AnswerAsync(HttpContext ctx, Exchange x, OpenAIError failure)
    {
        await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
        await failure.WriteAsync(ctx.Response);
    }

    private Task AnswerDeadlineAsync(HttpContext ctx, Exchange x) => AnswerAsync(ctx, x, new OpenAIError(504,
        $"The request's deadline (Gateway:TotalDeadlineSeconds = {_options.TotalDeadlineSeconds}) passed after {x.Attempts} attempt(s); last: " +
        (x.PendingFailure?.Message ?? "no answer"), "upstream_error", null, "upstream_timeout"));

    /// <summary>The vendor's Retry-After if it gave one, else exponential backoff with full jitter; at most MaxRetryDelaySeconds.</summary>
    private TimeSpan RetryDelay(int retry, TimeSpan? retryAfter)
    {
        var cap = TimeSpan.FromSeconds(_options.MaxRetryDelaySeconds);
        if (retryAfter is { } asked)
        {
            return asked < cap ? asked : cap;
        }
        var backoff = TimeSpan.FromMilliseconds(_options.RetryBaseDelayMs * Math.Pow(2, retry - 1) * (0.5 + (Random.Shared.NextDouble() / 2)));
        return backoff < cap ? backoff : cap;
    }

    private enum Attempt { Done, FellBack }

    /// <param name="canFallBack">when this attempt fails before any byte reached the client in a way another deployment
    /// may not, return <see cref="Attempt.FellBack"/> (recording and answering nothing) instead of answering the failure.</param>
    private async Task<Attempt> ForwardAsync(HttpContext ctx, Exchange x, GatewayRequest request, Deployment deployment, bool canFallBack, DateTimeOffset deadline)
    {
        var settings = deployment.Settings;
        var idle = TimeSpan.FromSeconds(_options.UpstreamTimeoutSeconds);
        // Until the first byte: the deployment's limit, cut short by the request's deadline. After it: the idle limit.
        var firstByte = settings.FirstByte ?? idle;
        var left = deadline - time.GetUtcNow();
        using var timeout = new CancellationTokenSource(left < firstByte ? (left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1)) : firstByte);
        using var total = settings.Total is { } limit ? new CancellationTokenSource(limit) : null;
        using var linked = total is null
            ? CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, timeout.Token)
            : CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, timeout.Token, total.Token);
        HttpResponseMessage response;
        var sent = Stopwatch.GetTimestamp();
        x.Attempts++;
        try
        {
            response = await upstream.SendAsync(deployment, request, x.RequestId, linked.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException)
        {
            if (!ctx.RequestAborted.IsCancellationRequested)
            {
                health.Failed(deployment, null);
                NoteUnserved(x, deployment, e);
                if (canFallBack)
                {
                    LogUpstreamFailed(logger, x.RequestId, deployment.Provider.Name, e is OperationCanceledException ? "timeout" : "unreachable");
                    x.PendingFailure = e is OperationCanceledException ? UpstreamFailure.Timeout(deployment) : UpstreamFailure.Unreachable(deployment, e);
                    return Attempt.FellBack;
                }
            }
            await FailBeforeResponseAsync(ctx, x, e);
            return Attempt.Done;
        }
        // The first byte is in: the request's deadline no longer applies, only the idle (and the deployment's total) limit.
        timeout.CancelAfter(idle);
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var errorBody = await ReadLimitedAsync(response.Content, 64 * 1024, linked.Token);
                var retryAfter = response.Headers.RetryAfter?.Delta;
                var (failure, next) = UpstreamFailure.FromResponse(deployment, response.StatusCode, errorBody ?? [], retryAfter);
                LogUpstreamStatus(logger, x.RequestId, deployment.Provider.Name, (int)response.StatusCode);
                if (next != UpstreamFailure.Next.Answer)
                {
                    x.RetryAfter = retryAfter;
                    health.Failed(deployment, retryAfter);
                    if (canFallBack)
                    {
                        x.SkipRetries = next == UpstreamFailure.Next.FallBack;
                        x.PendingFailure = failure;
                        return Attempt.FellBack;
                    }
                }
                await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
                await failure.WriteAsync(ctx.Response);
                return Attempt.Done;
            }
            if (request.Stream && response.Content.Headers.ContentType?.MediaType is not ("text/event-stream" or null))
            {
                // A vendor that answers a stream request with a plain body (some send errors as HTTP 200 JSON).
                var unexpected = await ReadLimitedAsync(response.Content, 64 * 1024, linked.Token) ?? [];
                health.Failed(deployment, null);
                var (failure, _) = UpstreamFailure.FromResponse(deployment, System.Net.HttpStatusCode.BadGateway, unexpected, null);
                if (canFallBack)
                {
                    x.PendingFailure = failure;
                    return Attempt.FellBack;
                }
                await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
                await failure.WriteAsync(ctx.Response);
                return Attempt.Done;
            }
            health.Succeeded(deployment, Stopwatch.GetElapsedTime(sent));
            ctx.Response.Headers[ProviderHeader] = deployment.Provider.Name;
            if (request.Stream)
            {
                await relay.RelayAsync(ctx, x, response, timeout, linked.Token);
                return Attempt.Done;
            }
            byte[]? bytes;
            try
            {
                bytes = await ReadLimitedAsync(response.Content, _options.MaxResponseBodyBytes, linked.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
            {
                await FailBeforeResponseAsync(ctx, x, e);
                return Attempt.Done;
            }
            if (bytes is null)
            {
                var failure = new OpenAIError(502, $"The upstream response exceeded {_options.MaxResponseBodyBytes} bytes.", "upstream_error", null, "upstream_response_too_large");
                await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, EstimateInput(x), failure.Status, failure.Message));
                await failure.WriteAsync(ctx.Response);
                return Attempt.Done;
            }
            await CompleteAsync(ctx, x, response, bytes);
            return Attempt.Done;
        }
    }

    /// <summary>A request that reached the vendor and then timed out or broke off may still be billed by it:
    /// its estimated input is listed on the usage record (not charged). A refused connection never reached it.</summary>
    private void NoteUnserved(Exchange x, Deployment deployment, Exception e)
    {
        if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError })
        {
            return;
        }
        var input = EstimateInput(x).Input;
        x.Unserved.Add(new UnservedAttempt(deployment.Provider.Name, deployment.VendorModel, e is OperationCanceledException ? "timeout" : "connection lost",
            input, Cost.Of(deployment.Price, input, 0, 0), deployment.Price.Currency));
    }

    private async Task CompleteAsync(HttpContext ctx, Exchange x, HttpResponseMessage response, byte[] bytes)
    {
        var usage = ReadUsage(x, bytes);
        var record = x.ToRecord(UsageStatus.Ok, usage, 200);
        try
        {
            // Durable before the client sees a byte: a completed response always has its record.
            await ledger.RecordAsync(record);
        }
        catch (LedgerUnavailableException)
        {
            await new OpenAIError(503, "The usage ledger is unavailable; the request was not served.", "service_unavailable", null, "ledger_unavailable")
                .WriteAsync(ctx.Response);
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        ctx.Response.ContentLength = bytes.Length;
        if (record.Currency is { } currency)
        {
            ctx.Response.Headers["x-mulan-cost"] = record.Cost.ToString(CultureInfo.InvariantCulture);
            ctx.Response.Headers["x-mulan-cost-currency"] = currency.ToString();
        }
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }

    private UsageFigures ReadUsage(Exchange x, byte[] bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                x.UpstreamId = id.GetString();
            }
            if (UsageFigures.TryRead(doc.RootElement, out var reported))
            {
                return reported;
            }
            var input = EstimateInput(x);
            return input with { Output = x.Endpoint == GatewayEndpoint.ChatCompletions ? ResponseText.CountOutput(doc.RootElement, tokens) : 0 };
        }
        catch (JsonException)
        {
            return EstimateInput(x);
        }
    }

    private UsageFigures EstimateInput(Exchange x) => x.Request is null
        ? default
        : new UsageFigures(x.Endpoint == GatewayEndpoint.ChatCompletions ? tokens.CountChatInput(x.Request.Body) : tokens.CountEmbeddingInput(x.Request.Body),
            0, 0, UsageSource.Estimated);

    private async Task FailBeforeResponseAsync(HttpContext ctx, Exchange x, Exception e)
    {
        if (ctx.RequestAborted.IsCancellationRequested)
        {
            // The vendor may have started work; bill the input we sent, as estimated.
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, EstimateInput(x), 499, "client closed the connection before the upstream answered"));
            return;
        }
        var failure = e is OperationCanceledException ? UpstreamFailure.Timeout(x.Deployment!) : UpstreamFailure.Unreachable(x.Deployment!, e);
        LogUpstreamFailed(logger, x.RequestId, x.Deployment!.Provider.Name, failure.Code ?? "");
        await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
        await failure.WriteAsync(ctx.Response);
    }

    private async Task RejectAsync(HttpContext ctx, Exchange x, OpenAIError error)
    {
        await ledger.TryRecordAsync(x.ToRecord(UsageStatus.Rejected, default, error.Status, error.Message));
        await error.WriteAsync(ctx.Response);
    }

    private async Task<(byte[]? Body, bool TooLarge)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var limit = _options.MaxRequestBodyBytes;
        if (request.ContentLength > DrainCapBytes)
        {
            return (null, true); // far too large to drain: answer now and let the connection close
        }
        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct);
                if (result.Buffer.Length > limit)
                {
                    reader.AdvanceTo(result.Buffer.End);
                    await DrainAsync(reader, result.Buffer.Length, ct);
                    return (null, true);
                }
                if (result.IsCompleted)
                {
                    var bytes = result.Buffer.ToArray();
                    reader.AdvanceTo(result.Buffer.End);
                    return (bytes, false);
                }
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return (null, e is BadHttpRequestException { StatusCode: 413 });
        }
    }

    // Reads and discards the rest of an oversized body (up to a cap), so the client, still sending, gets a clean
    // 413 instead of a broken pipe. Past the cap Kestrel closes the connection.
    private static async Task DrainAsync(System.IO.Pipelines.PipeReader reader, long consumed, CancellationToken ct)
    {
        while (consumed <= DrainCapBytes)
        {
            var result = await reader.ReadAsync(ct);
            consumed += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    internal static async Task<byte[]?> ReadLimitedAsync(HttpContent content, long limit, CancellationToken ct)
    {
        var length = content.Headers.ContentLength;
        if (length > limit)
        {
            return null;
        }
        await using var stream = await content.ReadAsStreamAsync(ct);
        if (length is { } known)
        {
            var exact = new byte[known];
            await stream.ReadExactlyAsync(exact, ct);
            return exact;
        }
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + n > limit)
                {
                    return null;
                }
                buffer.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: provider {Provider} answered HTTP {Status}")]
    private static partial void LogUpstreamStatus(ILogger logger, string requestId, string provider, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: provider {Provider} failed, retrying it in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string requestId, string provider, int delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: provider {Provider} failed, falling back to {Next}")]
    private static partial void LogFallback(ILogger logger, string requestId, string provider, string next);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: provider {Provider} failed ({Code})")]
    private static partial void LogUpstreamFailed(ILogger logger, string requestId, string provider, string code);
}
