using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Probing;

public static class ModelProbeEndpoints
{
    /// <summary>Maps <c>POST /models/{name}/test</c> on the admin-only <c>/api</c> group.</summary>
    public static RouteGroupBuilder MapModelProbe(this RouteGroupBuilder api)
    {
        api.MapPost("/models/{name}/test", TestAsync).WithName("TestModel")
            .WithSummary("One cheap real call to each deployment of a model (metered like any call): ok or failed, latency and the upstream reason.");
        return api;
    }

    private static async Task<Results<Ok<ModelProbe.ProbeResult>, ProblemHttpResult>> TestAsync(
        string name, string? endpoint, ModelProbe probe, CancellationToken ct)
    {
        GatewayEndpoint? kind = endpoint?.ToLowerInvariant() switch
        {
            null => null,
            "chat" => GatewayEndpoint.ChatCompletions,
            "embeddings" => GatewayEndpoint.Embeddings,
            _ => throw new BadHttpRequestException("The query parameter 'endpoint' must be chat or embeddings."),
        };
        return await probe.TestAsync(name, kind, ct) is { } result
            ? TypedResults.Ok(result)
            : TypedResults.Problem(detail: $"No model '{name}'.", statusCode: 404);
    }
}
