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
}

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        var errors = new List<string>();
        if (o.MaxRequestBodyBytes is < 1024 or > 1024L * 1024 * 1024)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.MaxRequestBodyBytes)}: must be between 1024 and 1073741824 (got {o.MaxRequestBodyBytes})");
        }
        if (o.MaxResponseBodyBytes is < 1024 or > 4L * 1024 * 1024 * 1024)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.MaxResponseBodyBytes)}: must be between 1024 and 4294967296 (got {o.MaxResponseBodyBytes})");
        }
        if (o.UpstreamTimeoutSeconds is < 1 or > 3600)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.UpstreamTimeoutSeconds)}: must be between 1 and 3600 (got {o.UpstreamTimeoutSeconds})");
        }
        if (o.ConnectTimeoutSeconds is < 1 or > 120)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.ConnectTimeoutSeconds)}: must be between 1 and 120 (got {o.ConnectTimeoutSeconds})");
        }
        if (o.MaxAttempts is < 1 or > 10)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.MaxAttempts)}: must be between 1 and 10 (got {o.MaxAttempts})");
        }
        if (o.RetriesPerDeployment is < 0 or > 5)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.RetriesPerDeployment)}: must be between 0 and 5 (got {o.RetriesPerDeployment})");
        }
        if (o.RetryBaseDelayMs is < 1 or > 60_000)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.RetryBaseDelayMs)}: must be between 1 and 60000 (got {o.RetryBaseDelayMs})");
        }
        if (o.MaxRetryDelaySeconds is < 0 or > 300)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.MaxRetryDelaySeconds)}: must be between 0 and 300 (got {o.MaxRetryDelaySeconds})");
        }
        if (o.FailuresBeforeCooldown is < 1 or > 100)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.FailuresBeforeCooldown)}: must be between 1 and 100 (got {o.FailuresBeforeCooldown})");
        }
        if (o.CooldownSeconds is < 1 or > 3600)
        {
            errors.Add($"{GatewayOptions.Section}:{nameof(o.CooldownSeconds)}: must be between 1 and 3600 (got {o.CooldownSeconds})");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
