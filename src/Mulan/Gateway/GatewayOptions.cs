using Microsoft.Extensions.Options;

namespace Mulan.Gateway;

/// <summary>Limits and timeouts of the <c>/v1</c> gateway. Bound from the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Largest accepted request body in bytes; larger bodies get 413. Default 16 MiB (images as data URLs need room).</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest non-streaming upstream response body in bytes. Default 64 MiB.</summary>
    public long MaxResponseBodyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Seconds to wait for an upstream: the whole response when not streaming, and the first byte and
    /// then each next chunk when streaming. Default 300.</summary>
    public int UpstreamTimeoutSeconds { get; set; } = 300;

    /// <summary>Seconds to establish a TCP/TLS connection to an upstream. Default 10.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Deployments of a model tried for one request before its failure is returned (fallback). Default 3.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Extra tries of the same deployment before falling back to the next. Default 0 (clients' SDKs retry too).</summary>
    public int RetriesPerDeployment { get; set; }

    /// <summary>Base of the exponential backoff between tries of one deployment, in milliseconds (full jitter). Default 250.</summary>
    public int RetryBaseDelayMs { get; set; } = 250;

    /// <summary>Longest wait before a retry, Retry-After included. Default 10.</summary>
    public int MaxRetryDelaySeconds { get; set; } = 10;

    /// <summary>Consecutive failures after which a deployment cools down (tried after the healthy ones). Default 3.</summary>
    public int FailuresBeforeCooldown { get; set; } = 3;

    /// <summary>Seconds a failing deployment cools down; a longer Retry-After from the vendor wins. Default 30.</summary>
    public int CooldownSeconds { get; set; } = 30;

    /// <summary>Seconds one request may spend getting an answer started: every attempt, retry and wait. Past it no new
    /// attempt begins and the client gets 504. A response already streaming is not cut. Default 600.</summary>
    public int TotalDeadlineSeconds { get; set; } = 600;

    /// <summary>On SIGTERM (or any host stop) the server stops accepting connections and lets requests in flight,
    /// streams included, finish for up to this many seconds; then it closes what is left (each still gets its one usage
    /// record, as an aborted request). Default 30; 0 to 3600. A service manager's stop timeout should be longer.</summary>
    public int ShutdownDrainSeconds { get; set; } = 30;

    /// <summary>Memory the exact response cache may hold, in bytes. Default 64 MiB.</summary>
    public long CacheMaxBytes { get; set; } = 64L * 1024 * 1024;
}

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        var errors = new List<string>();
        // Messages name the setting by its configuration path and say the allowed range, e.g.
        // "Gateway:MaxAttempts: must be between 1 and 10 (got 0)".
        void Range(long value, long min, long max, string setting)
        {
            if (value < min || value > max)
            {
                errors.Add($"{GatewayOptions.Section}:{setting}: must be between {min} and {max} (got {value})");
            }
        }
        Range(o.MaxRequestBodyBytes, 1024, 1024L * 1024 * 1024, nameof(o.MaxRequestBodyBytes));
        Range(o.MaxResponseBodyBytes, 1024, 4L * 1024 * 1024 * 1024, nameof(o.MaxResponseBodyBytes));
        Range(o.UpstreamTimeoutSeconds, 1, 3600, nameof(o.UpstreamTimeoutSeconds));
        Range(o.ConnectTimeoutSeconds, 1, 120, nameof(o.ConnectTimeoutSeconds));
        Range(o.MaxAttempts, 1, 10, nameof(o.MaxAttempts));
        Range(o.RetriesPerDeployment, 0, 5, nameof(o.RetriesPerDeployment));
        Range(o.RetryBaseDelayMs, 1, 60_000, nameof(o.RetryBaseDelayMs));
        Range(o.MaxRetryDelaySeconds, 0, 300, nameof(o.MaxRetryDelaySeconds));
        Range(o.FailuresBeforeCooldown, 1, 100, nameof(o.FailuresBeforeCooldown));
        Range(o.CooldownSeconds, 1, 3600, nameof(o.CooldownSeconds));
        Range(o.TotalDeadlineSeconds, 1, 7200, nameof(o.TotalDeadlineSeconds));
        Range(o.ShutdownDrainSeconds, 0, 3600, nameof(o.ShutdownDrainSeconds));
        Range(o.CacheMaxBytes, 0, 64L * 1024 * 1024 * 1024, nameof(o.CacheMaxBytes));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
