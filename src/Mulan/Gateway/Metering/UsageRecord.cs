using Mulan.Gateway.Catalog;

namespace Mulan.Gateway.Metering;

public enum UsageStatus { Ok, ClientAborted, UpstreamError, Rejected, Cached }

/// <summary>Whether token counts came from the vendor or from Mulan's own tokenizer.</summary>
public enum UsageSource { Reported, Estimated, None }

/// <summary>One gateway request in the ledger. Exactly one per authenticated request.</summary>
public sealed record UsageRecord
{
    public required string RequestId { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string WorkspaceId { get; init; }
    public required string KeyId { get; init; }
    public required string Endpoint { get; init; }
    public required string Model { get; init; }
    public string? Provider { get; init; }
    public string? VendorModel { get; init; }
    public string? UpstreamId { get; init; }
    public long InputTokens { get; init; }
    public long CachedTokens { get; init; }
    public long OutputTokens { get; init; }
    /// <summary>Reasoning tokens within <see cref="OutputTokens"/>, when the vendor reported them.</summary>
    public long ReasoningTokens { get; init; }
    /// <summary>The price the request was charged at (null when no deployment was reached).</summary>
    public Price? Price { get; init; }
    public decimal Cost { get; init; }
    public Currency? Currency { get; init; }
    public double LatencyMs { get; init; }
    public double? TimeToFirstTokenMs { get; init; }
    public required UsageStatus Status { get; init; }
    public UsageSource Source { get; init; }
    public bool Streamed { get; init; }
    public int HttpStatus { get; init; }
    public string? Error { get; init; }

    /// <summary>Upstream attempts made for this request (fallbacks and retries included).</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>Failed attempts the vendor may still bill (it received the request, then timed out or broke off).
    /// They are not charged to the request; they are listed so that a vendor's invoice can be reconciled.</summary>
    public IReadOnlyList<UnservedAttempt> Unserved { get; init; } = [];

    /// <summary>The app the request was made to, or made for (a model call of an app request).</summary>
    public string? AppId { get; init; }
    public int? AppVersion { get; init; }

    /// <summary>The end user the caller named (the request's <c>user</c>), at most 128 characters.</summary>
    public string? EndUser { get; init; }

    /// <summary>For a model call an app made: the request id of the app request it was made for.</summary>
    public string? ParentRequestId { get; init; }

    /// <summary>For a model call of an assistant run: the run.</summary>
    public string? RunId { get; init; }

    /// <summary>For a call made by an evaluation run (to its target or its judge): the run.</summary>
    public string? EvaluationRunId { get; init; }

    /// <summary>Speech and OCR requests: how much was metered (seconds of audio, characters, pages), in <see cref="Unit"/>.</summary>
    public decimal Units { get; init; }

    /// <summary>The unit of <see cref="Units"/>; null for token-metered requests.</summary>
    public MeteredUnit? Unit { get; init; }
}

/// <param name="InputTokens">estimated by Mulan: the vendor never said.</param>
/// <param name="Cost">the input at that deployment's price.</param>
public sealed record UnservedAttempt(string Provider, string VendorModel, string Reason, long InputTokens, decimal Cost, Currency Currency);

public static class UsageNames
{
    public static string Of(UsageStatus s) => s switch
    {
        UsageStatus.Ok => "ok",
        UsageStatus.ClientAborted => "client_aborted",
        UsageStatus.UpstreamError => "upstream_error",
        UsageStatus.Cached => "cached",
        _ => "rejected",
    };

    public static string Of(UsageSource s) => s switch
    {
        UsageSource.Reported => "reported",
        UsageSource.Estimated => "estimated",
        _ => "none",
    };
}
