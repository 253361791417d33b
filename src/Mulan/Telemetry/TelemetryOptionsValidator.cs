using Microsoft.Extensions.Options;

namespace Mulan.Telemetry;

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions o)
    {
        const string s = TelemetryOptions.Section;
        var errors = new List<string>();
        if (!Enum.IsDefined(o.Metrics.Access))
        {
            errors.Add($"{s}:Metrics:Access: must be Loopback, Token, Open or Off");
        }
        if (o.Metrics.Access == MetricsAccess.Token && (o.Metrics.Token is null || o.Metrics.Token.Trim().Length < 16))
        {
            errors.Add($"{s}:Metrics:Token: must be set, at least 16 characters, when {s}:Metrics:Access is Token");
        }
        if (o.Traces.OtlpEndpoint is { } e && (!e.IsAbsoluteUri || e.Scheme is not ("http" or "https")))
        {
            errors.Add($"{s}:Traces:OtlpEndpoint: must be an absolute http:// or https:// URL (got '{e}')");
        }
        if (!Enum.IsDefined(o.Traces.OtlpProtocol))
        {
            errors.Add($"{s}:Traces:OtlpProtocol: must be HttpProtobuf or Grpc");
        }
        if (o.Traces.SampleRatio is < 0 or > 1 || double.IsNaN(o.Traces.SampleRatio))
        {
            errors.Add($"{s}:Traces:SampleRatio: must be between 0 and 1 (got {o.Traces.SampleRatio})");
        }
        if (!Enum.IsDefined(o.LogFormat))
        {
            errors.Add($"{s}:LogFormat: must be Text or Json");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
