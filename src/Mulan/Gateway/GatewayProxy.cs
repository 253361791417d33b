using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Forwarding;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Routing;
using Mulan.Gateway.Streaming;
using Mulan.Gateway.Wire;
using Mulan.Governance.Pii;
using Polly;
using Polly.Retry;

namespace Mulan.Gateway;

/// <summary>
/// The <c>/v1</c> request path: authenticate, read and check the body, pick the deployment, forward, meter.
/// The body is parsed once; the upstream's answer is passed through byte for byte (non-streaming) or event
/// by event (streaming).
/// </summary>
public sealed partial class GatewayProxy(
    AccessService access, CatalogState catalog, UpstreamCaller upstream, UsageLedger ledger, TokenCounter tokens,
    StreamRelay relay, DeploymentHealth health, Governance.Governor governor, Caching.ResponseCache cache, Governance.Pii.PiiGuard pii,
    IAppModels apps, IOptions<GatewayOptions> options, IOptions<Telemetry.TelemetryOptions> telemetry, TimeProvider time, ILogger<GatewayProxy> logger)
{
    public const string RequestIdHeader = "x-mulan-request-id";
    /// <summary>Names the provider whose deployment served the request.</summary>
    public const string ProviderHeader = "x-mulan-provider";
    /// <summary><c>hit</c> or <c>miss</c> on routes with the exact response cache.</summary>
    public const string CacheHeader = "x-mulan-cache";
    private const long DrainCapBytes = 64L * 1024 * 1024;
    private readonly GatewayOptions _options = options.Value;
    private readonly bool _recordContent = telemetry.Value.Traces.RecordContent;

    /// <summary>Serves an in-process request whose response the caller reads while it is written: the response body is
    /// <paramref name="pipe"/>'s writer, completed when the call ends (however it ends). Await the task after reading.</summary>
    public Task HandlePipedAsync(HttpContext ctx, GatewayEndpoint endpoint, System.IO.Pipelines.Pipe pipe)
    {
        ctx.Response.Body = pipe.Writer.AsStream();
        return Task.Run(async () =>
        {
            try
            {
                await HandleAsync(ctx, endpoint);
            }
            finally
            {
                await pipe.Writer.CompleteAsync();
            }
        }, CancellationToken.None);
    }

    public async Task HandleAsync(HttpContext ctx, GatewayEndpoint endpoint)
    {
        using var span = Telemetry.GatewayTracing.StartRequest(endpoint);
        var x = await HandleCoreAsync(ctx, endpoint, span);
        Telemetry.GatewayTracing.Ended(span, x?.LastRecord);
    }

    private async Task<Exchange?> HandleCoreAsync(HttpContext ctx, GatewayEndpoint endpoint, Activity? span)
    {
        var requestId = KeyMaterial.NewId("req");
        ctx.Response.Headers[RequestIdHeader] = requestId;
        // An app's model call carries its caller's key (already authenticated) and the app it is made for.
        var call = ctx.Features.Get<InProcessCall>();
        var key = call?.Key ?? access.Authenticate(BearerToken.Of(ctx.Request));
        if (key is null)
        {
            await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
            return null;
        }
        var x = new Exchange(requestId, key, time.GetUtcNow(), Stopwatch.GetTimestamp(), endpoint) { Span = span };
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            // The gateway enforces its own (configurable) limit below; Kestrel's only stops a body past the drain cap.
            bodyLimit.MaxRequestBodySize = Math.Max(_options.MaxRequestBodyBytes, DrainCapBytes) + 1;
        }
        var (body, tooLarge) = await ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        if (tooLarge)
        {
            await RejectAsync(ctx, x, OpenAIError.TooLarge(_options.MaxRequestBodyBytes));
            return x;
        }
        if (body is null)
        {
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, default, 499, "client closed the connection while sending"));
            return x;
        }
        var request = GatewayRequest.Parse(endpoint, new ReadOnlySequence<byte>(body), out var error);
        if (error is not null)
        {
            await RejectAsync(ctx, x, error);
            return x;
        }
        x.Request = request;
        x.Model = request.Model;
        Telemetry.GatewayTracing.Requested(span, x, request, _recordContent);
        x.App = call?.App ?? SelfCallScope.AppOf(ctx.Request, key);
        x.EvaluationRunId = ctx.Features.Get<EvaluationCall>()?.RunId ?? call?.App.EvaluationRunId ?? SelfCallScope.EvaluationRunOf(ctx.Request, key);
        x.EndUser = call?.App.EndUser ?? EndUserOf(request);
        if (call is null && request.Model.StartsWith(IAppModels.Prefix, StringComparison.Ordinal))
        {
            if (endpoint != GatewayEndpoint.ChatCompletions)
            {
                await RejectAsync(ctx, x, OpenAIError.ModelNotFound(request.Model));
                return x;
            }
            await apps.HandleAsync(ctx, x, request);
            return x;
        }
        var snapshot = catalog.Current;
        if (!snapshot.Models.TryGetValue(request.Model, out var route))
        {
            await RejectAsync(ctx, x, OpenAIError.ModelNotFound(request.Model));
            return x;
        }
        if (!key.AllowsModel(route.Name) && call?.GrantedRoute != route.Name)
        {
            await RejectAsync(ctx, x, OpenAIError.ModelNotAllowed(request.Model));
            return x;
        }
        if (route.Kind != ModelKind.Chat)
        {
            await RejectAsync(ctx, x, new OpenAIError(400, $"The model '{route.Name}' is a {ModelKinds.Name(route.Kind)} route; use " +
                (route.Kind == ModelKind.Ocr ? "/v1/ocr" : route.Kind == ModelKind.Speech ? "/v1/audio/speech" : "/v1/audio/transcriptions") + ".",
                "invalid_request_error", "model", "model_kind_mismatch"));
            return x;
        }
        // Disabled deployments are out of routing; so are external ones when the model, the key or its workspace keeps
        // its data on local providers (a local-only model is refused an external deployment when configured; checked
        // again here so that no later change can send its data out).
        var workspace = access.WorkspaceOf(key.WorkspaceId);
        var localOnly = route.LocalOnly || key.LocalOnly || workspace?.LocalOnly == true;
        var callable = route.Deployments.All(d => Callable(localOnly, d)) ? route.Deployments : [.. route.Deployments.Where(d => Callable(localOnly, d))];
        // A model test (Probing/ModelProbe) calls the one deployment it names, never another and never the cache.
        // Only in-process callers can set the feature: no request header or body field reaches it.
        var pinned = ctx.Features.Get<Probing.ModelProbe.PinnedDeployment>()?.Deployment;
        if (pinned is not null)
        {
            callable = [.. callable.Where(d => Probing.ModelProbe.Same(d, pinned))];
        }
        if (callable.Count == 0 && localOnly && route.Deployments.Any(d => d.Settings.Enabled))
        {
            await RejectAsync(ctx, x, new OpenAIError(403,
                $"This key's requests must stay on local providers, and model '{route.Name}' has no enabled local deployment.",
                "permission_error", "model", "data_residency"));
            return x;
        }
        if (callable.Count == 0)
        {
            var failure = UpstreamFailure.AllDisabled(route);
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
            await failure.WriteAsync(ctx.Response);
            return x;
        }
        // An identical earlier answer of a caching route is served as is: no vendor, no cost, no limits spent.
        if (route.CacheTtl is { } ttl && !request.Stream && pinned is null)
        {
            var cacheKey = Caching.ResponseCache.KeyOf(key.WorkspaceId, request);
            if (cache.Find(cacheKey) is { } hit)
            {
                await AnswerFromCacheAsync(ctx, x, hit);
                return x;
            }
            x.CacheEntry = (cacheKey, ttl);
            ctx.Response.Headers[CacheHeader] = "miss";
        }
        // The workspace's PII guard, for what may reach an external provider (a refused request spends no limit).
        if (GuardPersonalData(x, request, workspace, callable) is { } piiRefusal)
        {
            await RejectAsync(ctx, x, piiRefusal);
            return x;
        }
        // The key's rate limits and budget, before anything is sent.
        if (await governor.AdmitAsync(ctx, x, workspace, callable) is { } refusal)
        {
            await RejectAsync(ctx, x, refusal);
            return x;
        }
        // The route's strategy order (priority, weighted, lowest-cost, lowest-latency), deployments cooling down after
        // failures last; at most MaxAttempts of them, each tried 1 + its retries: bounded by construction.
        var deadline = x.StartedAt + TimeSpan.FromSeconds(_options.TotalDeadlineSeconds);
        var order = health.Order(route, callable);
        var count = Math.Min(order.Count, _options.MaxAttempts);
        var context = ResilienceContextPool.Shared.Get(ctx.RequestAborted);
        context.Properties.Set(AttemptKey, x);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var deployment = order[i];
                if (i > 0)
                {
                    LogFallback(logger, x.RequestId, order[i - 1].Provider.Name, deployment.Provider.Name);
                }
                x.Deployment = deployment;
                var result = await Retries(deployment).ExecuteAsync(
                    static (context, state) => new ValueTask<AttemptResult>(state.Proxy.ForwardAsync(state.Ctx, state.X, state.Request, state.Deployment, state.Deadline)),
                    context, (Proxy: this, Ctx: ctx, X: x, Request: request, Deployment: deployment, Deadline: deadline));
                if (result.Failure is not { } failure)
                {
                    return x; // served, or answered from within the attempt
                }
                // Timers may fire a little early: an attempt is not started with less than MinAttemptTime left.
                var late = time.GetUtcNow() >= deadline - MinAttemptTime;
                if (result.Next == UpstreamFailure.Next.Answer || i + 1 == count || late)
                {
                    await AnswerAsync(ctx, x, late && result.Next != UpstreamFailure.Next.Answer ? DeadlinePassed(x, failure) : failure);
                    return x;
                }
            }
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, default, 499, "client closed the connection while the gateway waited to retry"));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
        return x;
    }

    /// <summary>The end user a request names in <c>user</c> (OpenAI's field), cut to 128 characters.</summary>
    internal static string? EndUserOf(GatewayRequest request) =>
        request.Body["user"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var user) && user.Length > 0
            ? (user.Length > 128 ? user[..128] : user)
            : null;

    private static bool Callable(bool localOnly, Deployment d) => d.Settings.Enabled && (d.Provider.IsLocal || !localOnly);

    /// <summary>Masks (or refuses) the personal data the workspace's rules name, when an external provider may get the request.</summary>
    private OpenAIError? GuardPersonalData(Exchange x, GatewayRequest request, Workspace? workspace, IReadOnlyList<Deployment> deployments)
    {
        if (workspace?.PiiPolicy is not { MasksOrBlocks: true } policy || deployments.All(d => d.Provider.IsLocal))
        {
            return null;
        }
        try
        {
            // Embeddings have nothing to restore: their texts go out masked and come back as vectors.
            var result = request.Endpoint == GatewayEndpoint.ChatCompletions ? pii.MaskChatRequest(policy, request.Body) : pii.MaskEmbeddingsRequest(policy, request.Body);
            switch (result)
            {
                case Governance.Pii.PiiBodyResult.Blocked blocked:
                    return new OpenAIError(400, $"The request holds data of kind '{blocked.Kind}', which this workspace's PII rules keep from external providers.",
                        "invalid_request_error", request.Endpoint == GatewayEndpoint.ChatCompletions ? "messages" : "input", "pii_blocked");
                case Governance.Pii.PiiBodyResult.Masked { Vault.Count: > 0 } masked:
                    x.MaskedRequest = request.WithBody(masked.Body);
                    x.PiiVault = request.Endpoint == GatewayEndpoint.ChatCompletions ? masked.Vault : null;
                    break;
            }
            return null;
        }
        catch (Governance.Pii.PiiPatternException e)
        {
            // Never send what could not be checked.
            return new OpenAIError(400, $"This workspace's PII pattern '{e.PatternName}' could not check the request in time; it was not sent.",
                "invalid_request_error", "messages", "pii_check_failed");
        }
    }

    private static readonly TimeSpan MinAttemptTime = TimeSpan.FromMilliseconds(50);

    private async Task AnswerAsync(HttpContext ctx, Exchange x, OpenAIError failure)
    {
        await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
        await failure.WriteAsync(ctx.Response);
    }

    private OpenAIError DeadlinePassed(Exchange x, OpenAIError last) => new(504,
        $"The request's deadline (Gateway:TotalDeadlineSeconds = {_options.TotalDeadlineSeconds}) passed after {x.Attempts} attempt(s); last: {last.Message}",
        "upstream_error", null, "upstream_timeout");

    /// <summary>How one attempt ended: <see cref="Failure"/> is null when the client has its answer (served, or answered
    /// within the attempt); otherwise nothing reached the client and <see cref="Next"/> says what may follow.</summary>
    private sealed record AttemptResult(OpenAIError? Failure, UpstreamFailure.Next Next, TimeSpan? RetryAfter)
    {
        public static readonly AttemptResult Done = new(null, UpstreamFailure.Next.Answer, null);
    }

    private static readonly ResiliencePropertyKey<Exchange> AttemptKey = new("mulan.exchange");
    private readonly ConcurrentDictionary<int, ResiliencePipeline<AttemptResult>> _retries = new();

    /// <summary>
    /// Retries of one deployment (Polly): only failures that may pass (rate limit, overload, 5xx, timeout), only while the
    /// request's deadline allows; the vendor's Retry-After if it gave one, else exponential backoff with jitter, at most
    /// MaxRetryDelaySeconds. Fallback to the next deployment is the loop around it, because the order comes from routing.
    /// </summary>
    private ResiliencePipeline<AttemptResult> Retries(Deployment deployment)
    {
        var retries = deployment.Settings.MaxRetries ?? _options.RetriesPerDeployment;
        return retries == 0 ? ResiliencePipeline<AttemptResult>.Empty : _retries.GetOrAdd(retries, n => new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                MaxRetryAttempts = n,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(_options.RetryBaseDelayMs),
                MaxDelay = TimeSpan.FromSeconds(Math.Max(_options.MaxRetryDelaySeconds, 0.001)),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Failure: not null, Next: UpstreamFailure.Next.Retry }
                    && time.GetUtcNow() < args.Context.Properties.GetValue(AttemptKey, null!).StartedAt + TimeSpan.FromSeconds(_options.TotalDeadlineSeconds) - MinAttemptTime),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter is { } asked
                    ? (TimeSpan?)(asked < TimeSpan.FromSeconds(_options.MaxRetryDelaySeconds) ? asked : TimeSpan.FromSeconds(_options.MaxRetryDelaySeconds))
                    : null),
                OnRetry = args =>
                {
                    var x = args.Context.Properties.GetValue(AttemptKey, null!);
                    LogRetry(logger, x.RequestId, x.Deployment!.Provider.Name, (int)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build());
    }

    private async Task<AttemptResult> ForwardAsync(HttpContext ctx, Exchange x, GatewayRequest request, Deployment deployment, DateTimeOffset deadline)
    {
        using var span = Telemetry.GatewayTracing.StartAttempt(x, deployment);
        var result = await ForwardCoreAsync(ctx, x, request, deployment, deadline);
        Telemetry.GatewayTracing.AttemptEnded(span, x, result.Failure);
        return result;
    }

    private async Task<AttemptResult> ForwardCoreAsync(HttpContext ctx, Exchange x, GatewayRequest request, Deployment deployment, DateTimeOffset deadline)
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
            response = await upstream.SendAsync(deployment, !deployment.Provider.IsLocal && x.MaskedRequest is { } masked ? masked : request, x.RequestId, linked.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException)
        {
            return await FailBeforeResponseAsync(ctx, x, deployment, e);
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
                    health.Failed(deployment, retryAfter);
                }
                return new AttemptResult(failure, next, retryAfter);
            }
            if (request.Stream && response.Content.Headers.ContentType?.MediaType is not ("text/event-stream" or null))
            {
                // A vendor that answers a stream request with a plain body (some send errors as HTTP 200 JSON).
                var unexpected = await ReadLimitedAsync(response.Content, 64 * 1024, linked.Token) ?? [];
                health.Failed(deployment, null);
                var (failure, _) = UpstreamFailure.FromResponse(deployment, System.Net.HttpStatusCode.BadGateway, unexpected, null);
                return new AttemptResult(failure, UpstreamFailure.Next.Retry, null);
            }
            health.Succeeded(deployment, Stopwatch.GetElapsedTime(sent));
            if (request.Stream)
            {
                ctx.Response.Headers[ProviderHeader] = deployment.Provider.Name;
                await relay.RelayAsync(ctx, x, response, timeout, linked.Token);
                return AttemptResult.Done;
            }
            byte[]? bytes;
            try
            {
                bytes = await ReadLimitedAsync(response.Content, _options.MaxResponseBodyBytes, linked.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
            {
                // Nothing reached the client yet: another deployment may still answer.
                return await FailBeforeResponseAsync(ctx, x, deployment, e is IOException ? new HttpRequestException(e.Message, e) : e);
            }
            if (bytes is null)
            {
                var failure = new OpenAIError(502, $"The upstream response exceeded {_options.MaxResponseBodyBytes} bytes.", "upstream_error", null, "upstream_response_too_large");
                await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, EstimateInput(x), failure.Status, failure.Message));
                await failure.WriteAsync(ctx.Response);
                return AttemptResult.Done;
            }
            ctx.Response.Headers[ProviderHeader] = deployment.Provider.Name;
            await CompleteAsync(ctx, x, response, bytes);
            return AttemptResult.Done;
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
            input, Cost.Of(deployment.PriceAt(x.StartedAt), input, 0, 0), deployment.Price.Currency));
    }

    private async Task AnswerFromCacheAsync(HttpContext ctx, Exchange x, Caching.CachedAnswer hit)
    {
        if (!await ledger.TryRecordAsync(x.ToRecord(UsageStatus.Cached, hit.Usage, 200)))
        {
            await new OpenAIError(503, "The usage ledger is unavailable; the request was not served.", "service_unavailable", null, "ledger_unavailable")
                .WriteAsync(ctx.Response);
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = hit.ContentType;
        ctx.Response.ContentLength = hit.Body.Length;
        ctx.Response.Headers[CacheHeader] = "hit";
        await ctx.Response.Body.WriteAsync(hit.Body, ctx.RequestAborted);
    }

    private async Task CompleteAsync(HttpContext ctx, Exchange x, HttpResponseMessage response, byte[] bytes)
    {
        var usage = ReadUsage(x, bytes);
        if (_recordContent && x.Span is not null)
        {
            try
            {
                Telemetry.GatewayTracing.Answered(x.Span, JsonNode.Parse(bytes)?["choices"]);
            }
            catch (JsonException)
            {
                // Not JSON: the answer is passed on as it is, and its span has no text.
            }
        }
        if (x.PiiVault is { } vault && x.Deployment is { Provider.IsLocal: false } && JsonNode.Parse(bytes) is JsonObject answer)
        {
            // The placeholders the vendor saw become the client's own data again.
            bytes = JsonSerializer.SerializeToUtf8Bytes(vault.RestoreChatCompletion(answer), WireJson.Serializer);
        }
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
        if (x.CacheEntry is { } entry)
        {
            cache.Keep(entry.Key, new Caching.CachedAnswer(bytes, ctx.Response.ContentType, usage), entry.Ttl);
        }
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

    private async Task<AttemptResult> FailBeforeResponseAsync(HttpContext ctx, Exchange x, Deployment deployment, Exception e)
    {
        if (ctx.RequestAborted.IsCancellationRequested)
        {
            // The vendor may have started work; bill the input we sent, as estimated.
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, EstimateInput(x), 499, "client closed the connection before the upstream answered"));
            return AttemptResult.Done;
        }
        health.Failed(deployment, null);
        NoteUnserved(x, deployment, e);
        var failure = e is OperationCanceledException ? UpstreamFailure.Timeout(deployment) : UpstreamFailure.Unreachable(deployment, e);
        LogUpstreamFailed(logger, x.RequestId, deployment.Provider.Name, e is OperationCanceledException ? "timeout" : "unreachable");
        return new AttemptResult(failure, UpstreamFailure.Next.Retry, null);
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
