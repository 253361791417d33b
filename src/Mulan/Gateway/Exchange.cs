using System.Diagnostics;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway;

/// <summary>One gateway request from authentication to its usage record.</summary>
public sealed class Exchange(string requestId, VirtualKey key, DateTimeOffset at, long startTimestamp, GatewayEndpoint endpoint)
{
    public string RequestId { get; } = requestId;
    public VirtualKey Key { get; } = key;
    public GatewayEndpoint Endpoint { get; } = endpoint;
    public GatewayRequest? Request { get; set; }
    public string? Model { get; set; }
    public Deployment? Deployment { get; set; }
    public string? UpstreamId { get; set; }
    /// <summary>Upstream attempts made so far.</summary>
    public int Attempts { get; set; }
    /// <summary>Failed attempts the vendor may still bill.</summary>
    public List<UnservedAttempt> Unserved { get; } = [];
    public DateTimeOffset StartedAt { get; } = at;
    /// <summary>The request as external providers get it, with personal data masked (null: nothing masked).</summary>
    public GatewayRequest? MaskedRequest { get; set; }
    /// <summary>What the masked placeholders stand for, to restore them in the answer.</summary>
    public Governance.Pii.PiiVault? PiiVault { get; set; }
    /// <summary>Where a served answer goes in the response cache, and for how long (null when the route does not cache).</summary>
    public (string Key, TimeSpan Ttl)? CacheEntry { get; set; }
    public double? TimeToFirstTokenMs { get; set; }
    /// <summary>The app the request is for (set for app requests and for the model calls an app makes).</summary>
    public AppAttribution? App { get; set; }

    /// <summary>The evaluation run this request was made for (set in process only, see <see cref="EvaluationCall"/>).</summary>
    public string? EvaluationRunId { get; set; }
    /// <summary>The request's <c>user</c>, when it named one.</summary>
    public string? EndUser { get; set; }
    /// <summary>Overrides the endpoint name on the record (an app request is <c>app.chat</c>).</summary>
    public string? EndpointName { get; set; }

    /// <summary>Speech and OCR: what the request is metered by (seconds, characters, pages) and how much; null for tokens.</summary>
    public (MeteredUnit Unit, decimal Amount)? Metered { get; set; }

    /// <summary>The request's span (null when it is not traced).</summary>
    public Activity? Span { get; set; }

    /// <summary>The record made last for this request: what its span and the attempt that served it report.</summary>
    public UsageRecord? LastRecord { get; private set; }

    public double ElapsedMs => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;

    public void MarkFirstToken() => TimeToFirstTokenMs ??= ElapsedMs;

    public UsageRecord ToRecord(UsageStatus status, UsageFigures usage, int httpStatus, string? error = null)
    {
        // The price in force when the request arrived, kept on the record: a later price change does not rewrite it.
        var price = Deployment?.PriceAt(StartedAt);
        return LastRecord = new UsageRecord
        {
            RequestId = RequestId,
            At = StartedAt,
            WorkspaceId = Key.WorkspaceId,
            KeyId = Key.Id,
            Endpoint = EndpointName ?? Endpoint switch
            {
                GatewayEndpoint.ChatCompletions => "chat.completions",
                GatewayEndpoint.Embeddings => "embeddings",
                GatewayEndpoint.AudioTranscriptions => "audio.transcriptions",
                GatewayEndpoint.AudioSpeech => "audio.speech",
                _ => "ocr",
            },
            Model = Model ?? "",
            Provider = Deployment?.Provider.Name,
            VendorModel = Deployment?.VendorModel,
            UpstreamId = UpstreamId,
            InputTokens = usage.Input,
            CachedTokens = usage.Cached,
            OutputTokens = usage.Output,
            ReasoningTokens = usage.Reasoning,
            Cost = price is null ? 0m
                : Metered is { } m ? Cost.OfUnits(price, m.Unit, m.Amount) : Cost.Of(price, usage.Input, usage.Cached, usage.Output, usage.Reasoning),
            Units = Metered?.Amount ?? 0,
            Unit = Metered?.Unit,
            Price = price,
            Currency = price?.Currency,
            LatencyMs = ElapsedMs,
            TimeToFirstTokenMs = TimeToFirstTokenMs,
            Status = status,
            Source = usage.Source,
            Streamed = Request?.Stream ?? false,
            HttpStatus = httpStatus,
            Error = error is { Length: > 500 } ? error[..500] : error,
            Attempts = Attempts,
            AppId = App?.AppId,
            AppVersion = App?.Version,
            EndUser = EndUser ?? App?.EndUser,
            ParentRequestId = App?.ParentRequestId,
            RunId = App?.RunId,
            EvaluationRunId = EvaluationRunId ?? App?.EvaluationRunId,
            Unserved = Unserved.Count == 0 ? [] : [.. Unserved],
        };
    }
}
