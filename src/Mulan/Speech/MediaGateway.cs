using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Gateway;
using Mulan.Gateway.Adapters;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Forwarding;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Routing;
using Mulan.Gateway.Wire;
using Mulan.Speech.Adapters;

namespace Mulan.Speech;

/// <summary>
/// The speech and OCR half of <c>/v1</c>: the same key, route, residency, limit, budget, routing, fallback and ledger
/// steps as chat (<see cref="GatewayProxy"/>), metered in seconds of audio, characters or pages instead of tokens.
/// Its size is known before anything is sent, so the budget holds the exact cost. The client's file is checked first
/// (format from its content, duration, pages, silence): a bad one is refused with nothing forwarded and nothing charged.
/// </summary>
public sealed partial class MediaGateway(
    AccessService access, CatalogState catalog, IHttpClientFactory factory, IEnumerable<IMediaAdapter> adapters, UsageLedger ledger,
    DeploymentHealth health, Governance.Governor governor, IOptions<SpeechOptions> options, IOptions<GatewayOptions> gatewayOptions,
    TimeProvider time, ILogger<MediaGateway> logger)
{
    private readonly SpeechOptions _options = options.Value;
    private readonly GatewayOptions _gateway = gatewayOptions.Value;
    private readonly Dictionary<WireProtocol, IMediaAdapter> _adapters = adapters.ToDictionary(a => a.Protocol);

    /// <summary>What a prologue hands on: the request's exchange, its route and the deployments it may use.</summary>
    internal sealed record Admitted(Exchange X, ModelRoute Route, IReadOnlyList<Deployment> Deployments, Workspace? Workspace);

    /// <summary>Authenticates and starts the exchange; null when the key is missing or wrong (answered, no record).</summary>
    internal Exchange? Begin(HttpContext ctx, GatewayEndpoint endpoint, long maxBody)
    {
        var requestId = KeyMaterial.NewId("req");
        ctx.Response.Headers[GatewayProxy.RequestIdHeader] = requestId;
        if (access.Authenticate(BearerToken.Of(ctx.Request)) is not { } key)
        {
            return null;
        }
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            // Room for the multipart framing and the small fields around the file; the file's own limit is checked after.
            bodyLimit.MaxRequestBodySize = maxBody + (1 << 20);
        }
        var x = new Exchange(requestId, key, time.GetUtcNow(), Stopwatch.GetTimestamp(), endpoint)
        {
            App = SelfCallScope.AppOf(ctx.Request, key),
            EvaluationRunId = SelfCallScope.EvaluationRunOf(ctx.Request, key),
        };
        return x;
    }

    /// <summary>The route of <paramref name="model"/> checked for kind, key, residency; null when refused (answered and recorded).</summary>
    internal async Task<Admitted?> RouteAsync(HttpContext ctx, Exchange x, string model, ModelKind kind, string path)
    {
        x.Model = model;
        if (!catalog.Current.Models.TryGetValue(model, out var route))
        {
            await RejectAsync(ctx, x, OpenAIError.ModelNotFound(model));
            return null;
        }
        if (route.Kind != kind)
        {
            await RejectAsync(ctx, x, new OpenAIError(400,
                $"The model '{model}' is a {ModelKinds.Name(route.Kind)} route; {path} takes a {ModelKinds.Name(kind)} route.",
                "invalid_request_error", "model", "model_kind_mismatch"));
            return null;
        }
        if (!x.Key.AllowsModel(route.Name))
        {
            await RejectAsync(ctx, x, OpenAIError.ModelNotAllowed(model));
            return null;
        }
        var workspace = access.WorkspaceOf(x.Key.WorkspaceId);
        var localOnly = route.LocalOnly || x.Key.LocalOnly || workspace?.LocalOnly == true;
        var callable = route.Deployments.Where(d => d.Settings.Enabled && (d.Provider.IsLocal || !localOnly)).ToList();
        if (callable.Count == 0 && localOnly && route.Deployments.Any(d => d.Settings.Enabled))
        {
            await RejectAsync(ctx, x, new OpenAIError(403,
                $"This key's requests must stay on local providers, and model '{route.Name}' has no enabled local deployment.",
                "permission_error", "model", "data_residency"));
            return null;
        }
        if (callable.Count == 0)
        {
            var failure = UpstreamFailure.AllDisabled(route);
            await ledger.TryRecordAsync(x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message));
            await failure.WriteAsync(ctx.Response);
            return null;
        }
        return new Admitted(x, route, callable, workspace);
    }

    /// <summary>Limits and budget for the metered amount; false when refused (answered and recorded).</summary>
    internal async Task<bool> AdmitAsync(HttpContext ctx, Admitted a, MeteredUnit unit, decimal amount)
    {
        a.X.Metered = (unit, amount);
        if (await governor.AdmitMeteredAsync(ctx, a.X, a.Workspace, a.Deployments) is { } refusal)
        {
            await RejectAsync(ctx, a.X, refusal);
            return false;
        }
        return true;
    }

    internal TAdapter? AdapterFor<TAdapter>(Deployment d) where TAdapter : class, IMediaAdapter =>
        _adapters.TryGetValue(d.Provider.Kind.Protocol, out var adapter) ? adapter as TAdapter : null;

    /// <summary>
    /// Calls the route's deployments in its strategy's order until one serves: each tried 1 + its retries for passing
    /// failures (rate limit, overload, 5xx, timeout), then the next; a failure that is the request's own (400) is answered
    /// at once. Null when the client has been answered already (every attempt failed, or the client left).
    /// </summary>
    internal async Task<(T Result, Deployment Deployment)?> CallAsync<TAdapter, T>(HttpContext ctx, Admitted a,
        Func<TAdapter, MediaCall, CancellationToken, Task<T>> call) where TAdapter : class, IMediaAdapter
    {
        var x = a.X;
        var deadline = x.StartedAt + TimeSpan.FromSeconds(_gateway.TotalDeadlineSeconds);
        var order = health.Order(a.Route, a.Deployments);
        OpenAIError? last = null;
        for (var i = 0; i < Math.Min(order.Count, _gateway.MaxAttempts); i++)
        {
            var deployment = order[i];
            x.Deployment = deployment;
            if (AdapterFor<TAdapter>(deployment) is not { } adapter)
            {
                last = new OpenAIError(502, $"Provider '{deployment.Provider.Name}' (kind {deployment.Provider.Kind.Name}) does not serve {ModelKinds.Name(a.Route.Kind)}.",
                    "upstream_error", null, "upstream_error");
                continue;
            }
            var tries = 1 + (deployment.Settings.MaxRetries ?? _gateway.RetriesPerDeployment);
            for (var attempt = 0; attempt < tries; attempt++)
            {
                if (attempt > 0)
                {
                    var delay = TimeSpan.FromMilliseconds(_gateway.RetryBaseDelayMs * Math.Pow(2, attempt - 1) * (0.5 + Random.Shared.NextDouble()));
                    await Task.Delay(delay < TimeSpan.FromSeconds(_gateway.MaxRetryDelaySeconds) ? delay : TimeSpan.FromSeconds(_gateway.MaxRetryDelaySeconds), ctx.RequestAborted);
                }
                var left = deadline - time.GetUtcNow();
                if (left <= TimeSpan.FromMilliseconds(50))
                {
                    await FailAsync(ctx, x, new OpenAIError(504, $"The request's deadline (Gateway:TotalDeadlineSeconds = {_gateway.TotalDeadlineSeconds}) passed after {x.Attempts} attempt(s)" +
                        (last is null ? "." : $"; last: {last.Message}"), "upstream_error", null, "upstream_timeout"));
                    return null;
                }
                var limit = deployment.Settings.Total ?? TimeSpan.FromSeconds(_gateway.UpstreamTimeoutSeconds);
                using var timeout = new CancellationTokenSource(left < limit ? left : limit);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, timeout.Token);
                var started = Stopwatch.GetTimestamp();
                x.Attempts++;
                try
                {
                    var media = new MediaCall(deployment, x.RequestId, factory.CreateClient(UpstreamCaller.ClientName),
                        deployment.Settings.Connect ?? TimeSpan.FromSeconds(_gateway.ConnectTimeoutSeconds), _gateway.MaxResponseBodyBytes);
                    var result = await call(adapter, media, linked.Token);
                    health.Succeeded(deployment, Stopwatch.GetElapsedTime(started));
                    return (result, deployment);
                }
                catch (VendorError e)
                {
                    var body = new OpenAIError(e.Status, e.Message, "upstream_error", null, e.Code).ToJson();
                    var (failure, next) = UpstreamFailure.FromResponse(deployment, (HttpStatusCode)e.Status, body, e.RetryAfter);
                    LogFailed(logger, x.RequestId, deployment.Provider.Name, e.Code);
                    last = failure;
                    if (next == UpstreamFailure.Next.Answer)
                    {
                        await FailAsync(ctx, x, failure);
                        return null;
                    }
                    health.Failed(deployment, e.RetryAfter);
                    if (next == UpstreamFailure.Next.FallBack)
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException or WebSocketException or OperationCanceledException or Engines.EngineException
                                              or System.Text.Json.JsonException)
                {
                    if (ctx.RequestAborted.IsCancellationRequested)
                    {
                        // The vendor may have done the work: the request is billed as sent.
                        await ledger.TryRecordAsync(x.ToRecord(UsageStatus.ClientAborted, default, 499, "client closed the connection before the provider answered"));
                        return null;
                    }
                    health.Failed(deployment, null);
                    var refused = e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
                        || e.InnerException is System.Net.Sockets.SocketException;
                    if (!refused && x.Metered is { } metered && !deployment.Provider.IsLocal)
                    {
                        // It reached the vendor, which may bill it: listed for reconciliation, not charged.
                        x.Unserved.Add(new UnservedAttempt(deployment.Provider.Name, deployment.VendorModel, e is OperationCanceledException ? "timeout" : "connection lost",
                            0, Cost.OfUnits(deployment.PriceAt(x.StartedAt), metered.Unit, metered.Amount), deployment.Price.Currency));
                    }
                    last = e is OperationCanceledException ? UpstreamFailure.Timeout(deployment) : UpstreamFailure.Unreachable(deployment, e);
                    LogFailed(logger, x.RequestId, deployment.Provider.Name, e is OperationCanceledException ? "timeout" : "unreachable");
                }
            }
        }
        await FailAsync(ctx, x, last ?? new OpenAIError(502, "No deployment could serve the request.", "upstream_error", null, "upstream_error"));
        return null;
    }

    /// <summary>Writes the usage record (durable before the client sees a byte) and the cost headers; false when the ledger
    /// could not take it (the client gets 503 and nothing else).</summary>
    internal async Task<bool> RecordServedAsync(HttpContext ctx, Exchange x, Deployment deployment)
    {
        var record = x.ToRecord(UsageStatus.Ok, new UsageFigures(0, 0, 0, UsageSource.Reported), 200);
        try
        {
            await ledger.RecordAsync(record);
        }
        catch (LedgerUnavailableException)
        {
            await new OpenAIError(503, "The usage ledger is unavailable; the request was not served.", "service_unavailable", null, "ledger_unavailable")
                .WriteAsync(ctx.Response);
            return false;
        }
        ctx.Response.Headers[GatewayProxy.ProviderHeader] = deployment.Provider.Name;
        if (record.Currency is { } currency)
        {
            ctx.Response.Headers["x-mulan-cost"] = record.Cost.ToString(CultureInfo.InvariantCulture);
            ctx.Response.Headers["x-mulan-cost-currency"] = currency.ToString();
        }
        return true;
    }

    internal async Task RejectAsync(HttpContext ctx, Exchange x, OpenAIError error)
    {
        x.Deployment = null;
        await ledger.TryRecordAsync(x.ToRecord(UsageStatus.Rejected, default, error.Status, error.Message));
        await error.WriteAsync(ctx.Response);
    }

    private async Task FailAsync(HttpContext ctx, Exchange x, OpenAIError failure)
    {
        // Not served: nothing is charged (the metered amount stays on the record for reconciliation via its attempts).
        var metered = x.Metered;
        x.Metered = null;
        var record = x.ToRecord(UsageStatus.UpstreamError, default, failure.Status, failure.Message);
        x.Metered = metered;
        await ledger.TryRecordAsync(record with { Units = metered?.Amount ?? 0, Unit = metered?.Unit });
        await failure.WriteAsync(ctx.Response);
    }

    /// <summary>OpenAI-style usage for the response body.</summary>
    internal static JsonObject Usage(Exchange x) => x.Metered is { } m
        ? new JsonObject { ["type"] = m.Unit switch { MeteredUnit.Seconds => "duration", MeteredUnit.Characters => "characters", _ => "pages" }, [ModelKinds.Name(m.Unit)] = m.Amount }
        : [];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: provider {Provider} failed ({Code})")]
    private static partial void LogFailed(ILogger logger, string requestId, string provider, string code);
}
