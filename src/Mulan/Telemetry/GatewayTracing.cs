using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mulan.Gateway;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Wire;

namespace Mulan.Telemetry;

/// <summary>
/// Spans of the gateway, after the GenAI conventions: one per request (INTERNAL, <c>chat {route}</c>) and, under it,
/// one per upstream attempt (CLIENT, <c>chat {vendor model}</c>, retries and fallbacks each their own). Ids, models,
/// tokens, cost and outcome only; the messages and the answer only with <see cref="TracesOptions.RecordContent"/>.
/// Every method is a no-op on a null span (tracing off, or the request not sampled).
/// </summary>
public static class GatewayTracing
{
    public static Activity? StartRequest(GatewayEndpoint endpoint) =>
        TelemetryExtensions.Source.HasListeners() ? TelemetryExtensions.Source.StartActivity(Operation(endpoint), ActivityKind.Internal) : null;

    /// <summary>What is known once the body is read: the route, the caller's ids, and the request's parameters.</summary>
    public static void Requested(Activity? span, Exchange x, GatewayRequest request, bool recordContent)
    {
        if (span is null)
        {
            return;
        }
        var operation = request.Model.StartsWith(IAppModels.Prefix, StringComparison.Ordinal) ? "invoke_agent" : Operation(x.Endpoint);
        span.DisplayName = operation + " " + request.Model;
        span.SetTag(GenAiNames.OperationName, operation);
        span.SetTag(GenAiNames.RequestModel, request.Model);
        span.SetTag(GenAiNames.MulanRequestId, x.RequestId);
        span.SetTag(GenAiNames.MulanKeyId, x.Key.Id);
        span.SetTag(GenAiNames.MulanWorkspaceId, x.Key.WorkspaceId);
        span.SetTag("gen_ai.request.stream", request.Stream);
        Parameter(span, request.Body, "max_tokens", "gen_ai.request.max_tokens");
        Parameter(span, request.Body, "max_completion_tokens", "gen_ai.request.max_tokens");
        Parameter(span, request.Body, "temperature", "gen_ai.request.temperature");
        Parameter(span, request.Body, "top_p", "gen_ai.request.top_p");
        if (recordContent)
        {
            span.SetTag(GenAiNames.InputMessages, (request.Body["messages"] ?? request.Body["input"])?.ToJsonString());
        }
    }

    /// <summary>The request's outcome, from its usage record.</summary>
    public static void Ended(Activity? span, UsageRecord? record)
    {
        if (span is null || record is null)
        {
            return;
        }
        Usage(span, record);
        if (record.Attempts > 0)
        {
            span.SetTag("mulan.attempts", record.Attempts);
        }
    }

    public static Activity? StartAttempt(Exchange x, Deployment deployment)
    {
        if (!TelemetryExtensions.Source.HasListeners())
        {
            return null;
        }
        var operation = Operation(x.Endpoint);
        var span = TelemetryExtensions.Source.StartActivity(operation + " " + deployment.VendorModel, ActivityKind.Client);
        if (span is null)
        {
            return null;
        }
        span.SetTag(GenAiNames.OperationName, operation);
        span.SetTag(GenAiNames.ProviderName, GenAiNames.Vendor(deployment.Provider.Kind));
        span.SetTag(GenAiNames.MulanProvider, deployment.Provider.Name);
        span.SetTag(GenAiNames.RequestModel, deployment.VendorModel);
        span.SetTag(GenAiNames.MulanAttempt, x.Attempts + 1);
        if (!deployment.Provider.Kind.Protocol.Equals(WireProtocol.Local))
        {
            span.SetTag(GenAiNames.ServerAddress, deployment.Provider.BaseUrl.Host);
            span.SetTag(GenAiNames.ServerPort, deployment.Provider.BaseUrl.Port);
        }
        return span;
    }

    /// <summary>An attempt that failed with <paramref name="failure"/>, or (null) served the request.</summary>
    public static void AttemptEnded(Activity? span, Exchange x, OpenAIError? failure)
    {
        if (span is null)
        {
            return;
        }
        if (failure is not null)
        {
            span.SetTag(GenAiNames.ErrorType, failure.Code ?? failure.Status.ToString(CultureInfo.InvariantCulture));
            span.SetTag("http.response.status_code", failure.Status);
            span.SetStatus(ActivityStatusCode.Error, failure.Code);
            return;
        }
        if (x.LastRecord is { } record)
        {
            Usage(span, record);
        }
    }

    /// <summary>The answer's text, for <see cref="TracesOptions.RecordContent"/>.</summary>
    public static void Answered(Activity? span, JsonNode? choices)
    {
        span?.SetTag(GenAiNames.OutputMessages, choices?.ToJsonString());
    }

    private static void Usage(Activity span, UsageRecord record)
    {
        span.SetTag(GenAiNames.MulanStatus, UsageNames.Of(record.Status));
        span.SetTag("http.response.status_code", record.HttpStatus);
        if (record.Provider is not null)
        {
            span.SetTag(GenAiNames.MulanProvider, record.Provider);
            span.SetTag(GenAiNames.ResponseModel, record.VendorModel);
        }
        if (record.UpstreamId is not null)
        {
            span.SetTag(GenAiNames.ResponseId, record.UpstreamId);
        }
        if (record.Source != UsageSource.None)
        {
            span.SetTag(GenAiNames.InputTokens, record.InputTokens);
            span.SetTag(GenAiNames.OutputTokens, record.OutputTokens);
        }
        if (record.Currency is { } currency)
        {
            span.SetTag(GenAiNames.MulanCost, (double)record.Cost);
            span.SetTag(GenAiNames.MulanCurrency, currency.ToString());
        }
        if (record.TimeToFirstTokenMs is { } first)
        {
            span.SetTag("mulan.time_to_first_chunk_ms", first);
        }
        if (GenAiNames.ErrorOf(record) is { } error)
        {
            span.SetTag(GenAiNames.ErrorType, error);
            span.SetStatus(ActivityStatusCode.Error, UsageNames.Of(record.Status));
        }
    }

    private static void Parameter(Activity span, JsonObject body, string field, string tag)
    {
        if (body[field] is JsonValue v && v.TryGetValue<double>(out var number))
        {
            span.SetTag(tag, number);
        }
    }

    private static string Operation(GatewayEndpoint endpoint) => endpoint switch
    {
        GatewayEndpoint.ChatCompletions => "chat",
        GatewayEndpoint.Embeddings => "embeddings",
        GatewayEndpoint.AudioTranscriptions => "transcription",
        GatewayEndpoint.AudioSpeech => "speech",
        _ => "ocr",
    };
}
