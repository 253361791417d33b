using System.Diagnostics;
using Microsoft.Extensions.Options;
using Mulan.Gateway.Metering;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Mulan.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>Spans of gateway calls, app runs and tool calls. Without a listener (tracing off) starting one returns
    /// null and costs a branch.</summary>
    public static readonly ActivitySource Source = new(GenAiNames.Source, Hosting.MulanVersion.Current);

    /// <summary>Metrics, traces and the request log. Called once the configuration is complete: which exporters run is
    /// decided when the host is built, from the same section the validated options are bound from.</summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();
        TelemetryOptions o;
        try
        {
            o = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new();
        }
        catch (InvalidOperationException)
        {
            o = new(); // a value of the wrong type: start-up validation names it and stops
        }
        services.AddSingleton(new TelemetryPlan(o.Metrics));
        if (o.LogFormat == LogFormat.Json)
        {
            builder.Logging.AddJsonConsole(j =>
            {
                j.UseUtcTimestamp = true;
                j.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
        }
        if (o.RequestLog.Enabled)
        {
            services.AddSingleton<IUsageObserver, RequestLog>();
        }
        var otel = services.AddOpenTelemetry().ConfigureResource(r => r.AddService("mulan", serviceVersion: Hosting.MulanVersion.Current));
        if (o.Metrics.Access != MetricsAccess.Off)
        {
            services.AddSingleton<GatewayMetrics>();
            services.AddSingleton<IUsageObserver>(sp => sp.GetRequiredService<GatewayMetrics>());
            services.AddSingleton<QueueMetrics>();
            // Its gauges register when the host starts, after start-up validation (the stores it reads need valid Storage settings).
            services.AddHostedService<QueueMetrics.Starter>();
            // ASP.NET Core's own meters add HTTP request durations and open connections for every route, at no cost
            // to write; the runtime's adds GC, thread pool and memory figures.
            otel.WithMetrics(m => m
                .AddMeter(GenAiNames.Source, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
                .AddPrometheusExporter());
        }
        if (o.Traces.OtlpEndpoint is { } endpoint)
        {
            otel.WithTracing(t => t
                .AddSource(GenAiNames.Source)
                // ASP.NET Core's span of the incoming request: it continues a client's traceparent, and the gateway's spans nest under it.
                .AddSource("Microsoft.AspNetCore")
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(o.Traces.SampleRatio)))
                .AddOtlpExporter(e =>
                {
                    e.Endpoint = endpoint;
                    e.Protocol = o.Traces.OtlpProtocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                    if (o.Traces.OtlpHeaders is { Length: > 0 } headers)
                    {
                        e.Headers = headers;
                    }
                }));
        }
        return builder;
    }

    /// <summary>Maps <c>/metrics</c> (unless metrics are off), behind the scrape access the options choose.</summary>
    public static WebApplication MapTelemetry(this WebApplication app)
    {
        // The options as the host was built with (validated, with a named error, when the server initializes).
        var metrics = app.Services.GetRequiredService<TelemetryPlan>().Metrics;
        if (metrics.Access == MetricsAccess.Off)
        {
            return app;
        }
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null,
            configureBranchedPipeline: branch => branch.Use(MetricsAccessCheck.Create(metrics)), optionsName: null)
            .WithMetadata(new Microsoft.AspNetCore.Routing.HttpMethodMetadata(["GET"]))
            .WithDisplayName("Metrics");
        return app;
    }
}

/// <summary>The telemetry settings the host was built with.</summary>
internal sealed record TelemetryPlan(MetricsOptions Metrics);
