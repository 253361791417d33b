using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Mulan.Gateway;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Metering;
using Mulan.Gateway.Routing;

namespace Mulan.Telemetry;

/// <summary>
/// The gateway's instruments, recorded once per request from its usage record (the one place every request passes,
/// once), so what <c>/metrics</c> counts is what the ledger bills. Labels are the operation, provider, route, vendor
/// model and outcome: never a key, workspace or user, which would leak tenants to whoever scrapes and grow without bound.
/// </summary>
public sealed class GatewayMetrics : IUsageObserver
{
    // The conventions' advised buckets: seconds doubling from 10 ms, tokens quadrupling from 1.
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    private readonly CatalogState _catalog;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _firstChunk;
    private readonly Histogram<long> _tokens;
    private readonly Counter<double> _cost;

    public GatewayMetrics(IMeterFactory meters, CatalogState catalog, DeploymentHealth health, IOptions<GatewayOptions> gateway)
    {
        _catalog = catalog;
        var meter = meters.Create(GenAiNames.Source);
        _requests = meter.CreateCounter<long>("mulan.gateway.requests", "{request}",
            "Gateway requests, by operation, provider, route (gen_ai.request.model), vendor model and outcome (mulan.status).");
        _duration = meter.CreateHistogram("gen_ai.client.operation.duration", "s",
            "Time from the request's arrival to its end (the whole stream, for streams), retries and fallbacks included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _firstChunk = meter.CreateHistogram("gen_ai.client.operation.time_to_first_chunk", "s",
            "Streams: time from the request's arrival to the first content chunk.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _tokens = meter.CreateHistogram("gen_ai.client.token.usage", "{token}",
            "Billed input and output tokens per request (gen_ai.token.type).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _cost = meter.CreateCounter<double>("mulan.gateway.cost", "{currency}",
            "What requests were charged, in the deployment price's currency (mulan.currency).");
        var failuresBeforeCooldown = gateway.Value.FailuresBeforeCooldown;
        meter.CreateObservableGauge("mulan.gateway.breaker.state", () => Breakers(catalog, health, failuresBeforeCooldown), "{state}",
            "Each deployment's circuit breaker: 0 closed, 1 open (cooling down, tried last), 2 half-open (the next request probes it).");
    }

    public void Observe(UsageRecord record)
    {
        var tags = new TagList
        {
            { GenAiNames.OperationName, GenAiNames.Operation(record.Endpoint) },
            { GenAiNames.RequestModel, record.Model },
            { GenAiNames.MulanStatus, UsageNames.Of(record.Status) },
        };
        if (record.Provider is { } provider)
        {
            tags.Add(GenAiNames.MulanProvider, provider);
            tags.Add(GenAiNames.ProviderName, _catalog.Current.Providers.TryGetValue(provider, out var p) ? GenAiNames.Vendor(p.Kind) : provider);
            tags.Add(GenAiNames.ResponseModel, record.VendorModel);
        }
        _requests.Add(1, tags);
        if (GenAiNames.ErrorOf(record) is { } error)
        {
            var failed = tags;
            failed.Add(GenAiNames.ErrorType, error);
            _duration.Record(record.LatencyMs / 1000, failed);
        }
        else
        {
            _duration.Record(record.LatencyMs / 1000, tags);
        }
        if (record.Streamed && record.TimeToFirstTokenMs is { } first)
        {
            _firstChunk.Record(first / 1000, tags);
        }
        if (record.Source != UsageSource.None && (record.InputTokens > 0 || record.OutputTokens > 0))
        {
            var input = tags;
            input.Add(GenAiNames.TokenType, "input");
            _tokens.Record(record.InputTokens, input);
            var output = tags;
            output.Add(GenAiNames.TokenType, "output");
            _tokens.Record(record.OutputTokens, output);
        }
        if (record.Currency is { } currency && record.Cost != 0)
        {
            var priced = tags;
            priced.Add(GenAiNames.MulanCurrency, currency.ToString());
            _cost.Add((double)record.Cost, priced);
        }
    }

    private static IEnumerable<Measurement<int>> Breakers(CatalogState catalog, DeploymentHealth health, int failuresBeforeCooldown)
    {
        var seen = new HashSet<(string, string)>();
        foreach (var route in catalog.Current.Models.Values)
        {
            foreach (var d in route.Deployments)
            {
                if (!seen.Add((d.Provider.Name, d.VendorModel)))
                {
                    continue;
                }
                var view = health.StateOf(d);
                var state = view.CooldownUntil is not null ? 1 : view.ConsecutiveFailures >= failuresBeforeCooldown ? 2 : 0;
                yield return new Measurement<int>(state,
                    new KeyValuePair<string, object?>(GenAiNames.MulanProvider, d.Provider.Name),
                    new KeyValuePair<string, object?>(GenAiNames.ResponseModel, d.VendorModel));
            }
        }
    }
}
