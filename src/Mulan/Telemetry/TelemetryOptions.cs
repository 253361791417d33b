namespace Mulan.Telemetry;

/// <summary>Who may read <c>GET /metrics</c>.</summary>
public enum MetricsAccess
{
    /// <summary>Connections from this machine only, and not relayed by a proxy (no <c>X-Forwarded-For</c> or
    /// <c>Forwarded</c> header): a Prometheus on the same host, or one reaching it through an SSH tunnel.</summary>
    Loopback,
    /// <summary>Any address, with <c>Authorization: Bearer</c> and <see cref="MetricsOptions.Token"/>.</summary>
    Token,
    /// <summary>Anyone who can reach the port.</summary>
    Open,
    /// <summary><c>/metrics</c> is not served (404) and no instrument is collected.</summary>
    Off,
}

/// <summary>The wire format of the OTLP trace exporter.</summary>
public enum OtlpProtocol { HttpProtobuf, Grpc }

/// <summary>Metrics, traces and the request log. Bound from the <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    public MetricsOptions Metrics { get; set; } = new();
    public TracesOptions Traces { get; set; } = new();
    public RequestLogOptions RequestLog { get; set; } = new();

    /// <summary>The console log's format: <c>Text</c> (default) or <c>Json</c> (one JSON object per line, with every
    /// field of a message as a property; what log collectors such as Loki, Fluent Bit or journald's JSON parsers expect).</summary>
    public LogFormat LogFormat { get; set; } = LogFormat.Text;
}

public enum LogFormat { Text, Json }

public sealed class MetricsOptions
{
    /// <summary>Who may scrape <c>/metrics</c>. Default <see cref="MetricsAccess.Loopback"/>. The metrics carry no key,
    /// workspace or user, but they do show which providers and models are configured and how much is spent.</summary>
    public MetricsAccess Access { get; set; } = MetricsAccess.Loopback;

    /// <summary>The bearer token scrapers send when <see cref="Access"/> is <c>Token</c> (at least 16 characters).
    /// Default none. Keep it out of the file with env <c>MULAN_Telemetry__Metrics__Token</c>.</summary>
    public string? Token { get; set; }
}

public sealed class TracesOptions
{
    /// <summary>Where spans are sent over OTLP, e.g. <c>http://127.0.0.1:4318/v1/traces</c> (HTTP/protobuf) or
    /// <c>http://127.0.0.1:4317</c> (gRPC). Default none: tracing is off and spans cost nothing.</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary><c>HttpProtobuf</c> (default) or <c>Grpc</c>.</summary>
    public OtlpProtocol OtlpProtocol { get; set; } = OtlpProtocol.HttpProtobuf;

    /// <summary>Headers sent with every export, as <c>name=value</c> pairs separated by commas (an OTLP collector's
    /// API key, for example). Default none. Env <c>MULAN_Telemetry__Traces__OtlpHeaders</c> keeps it out of the file.</summary>
    public string? OtlpHeaders { get; set; }

    /// <summary>The share of requests traced, 0 to 1. Default 1 (every request). A request with a sampled
    /// <c>traceparent</c> is traced whatever this says.</summary>
    public double SampleRatio { get; set; } = 1.0;

    /// <summary>Adds the request's messages and the answer (non-streaming) to gateway spans as
    /// <c>gen_ai.input.messages</c> / <c>gen_ai.output.messages</c>, and tool arguments and results to tool spans.
    /// Default false: spans carry sizes, models, tokens and costs, never text. Personal data masked for external
    /// providers is recorded as the provider received it.</summary>
    public bool RecordContent { get; set; }
}

public sealed class RequestLogOptions
{
    /// <summary>Writes one log message per gateway request (category <c>Mulan.Requests</c>, level Information):
    /// request id, key id, workspace, endpoint, model, provider, status, tokens, cost, latency. Never a secret or
    /// prompt text. Default false: the usage ledger already keeps every request, and at thousands of requests per
    /// second a console line each costs more than the request.</summary>
    public bool Enabled { get; set; }
}
