using System.Globalization;
using Microsoft.Extensions.Options;

namespace Mulan.Outbound;

/// <summary>Time limits of every fetch of a user-supplied URL (URL ingestion, HTTP tools), per step, so a fetch always
/// ends with an error that names the step. Bound from the <c>Outbound</c> configuration section; seconds, fractions allowed.</summary>
public sealed class OutboundOptions
{
    public const string Section = "Outbound";

    /// <summary>Resolving the host name. Default 5.</summary>
    public double DnsTimeoutSeconds { get; set; } = 5;

    /// <summary>Opening the TCP connection to the checked address. Default 10.</summary>
    public double ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>The TLS handshake (https only). Default 10.</summary>
    public double TlsHandshakeTimeoutSeconds { get; set; } = 10;

    /// <summary>From sending the request to the response headers (time to first byte). Default 30.</summary>
    public double FirstByteTimeoutSeconds { get; set; } = 30;

    /// <summary>Reading the whole body, however slowly it arrives (a server that drips bytes is cut off). Default 60.</summary>
    public double BodyTimeoutSeconds { get; set; } = 60;

    internal TimeSpan Dns => TimeSpan.FromSeconds(DnsTimeoutSeconds);
    internal TimeSpan Connect => TimeSpan.FromSeconds(ConnectTimeoutSeconds);
    internal TimeSpan Tls => TimeSpan.FromSeconds(TlsHandshakeTimeoutSeconds);
    internal TimeSpan FirstByte => TimeSpan.FromSeconds(FirstByteTimeoutSeconds);
    internal TimeSpan Body => TimeSpan.FromSeconds(BodyTimeoutSeconds);
}

internal sealed class OutboundOptionsValidator : IValidateOptions<OutboundOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboundOptions o)
    {
        var errors = new List<string>();
        void Check(string setting, double value)
        {
            if (!double.IsFinite(value) || value <= 0 || value > 3600)
            {
                errors.Add($"{OutboundOptions.Section}:{setting}: must be more than 0 and at most 3600 seconds (got {value.ToString(CultureInfo.InvariantCulture)})");
            }
        }
        Check(nameof(o.DnsTimeoutSeconds), o.DnsTimeoutSeconds);
        Check(nameof(o.ConnectTimeoutSeconds), o.ConnectTimeoutSeconds);
        Check(nameof(o.TlsHandshakeTimeoutSeconds), o.TlsHandshakeTimeoutSeconds);
        Check(nameof(o.FirstByteTimeoutSeconds), o.FirstByteTimeoutSeconds);
        Check(nameof(o.BodyTimeoutSeconds), o.BodyTimeoutSeconds);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class OutboundExtensions
{
    public static IServiceCollection AddOutbound(this IServiceCollection services)
    {
        services.AddOptions<OutboundOptions>().BindConfiguration(OutboundOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OutboundOptions>, OutboundOptionsValidator>();
        return services;
    }
}
