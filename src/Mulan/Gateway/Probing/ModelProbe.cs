using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Probing;

/// <summary>
/// Tests a model route: one cheap real call to each of its deployments (a one-token chat completion, or a one-word
/// embedding), made through the gateway's own pipeline so that it is routed, limited, metered and counted in deployment
/// health like any call. The calls are billed to the default workspace under the key id <see cref="KeyId"/>, a key minted
/// in memory at first use and never stored or shown.
/// </summary>
public sealed class ModelProbe(GatewayProxy proxy, CatalogState catalog, KeyRing ring, IAccessStore store, TimeProvider time)
{
    public const string KeyId = "service-model-test";

    /// <summary>The request feature that pins a gateway request to one deployment (a feature, not an item: looking it up
    /// on every gateway request allocates nothing).</summary>
    internal sealed record PinnedDeployment(Deployment Deployment);

    private readonly SemaphoreSlim _mint = new(1, 1);
    private string? _bearer;

    /// <summary>The same deployment, possibly from a newer catalog snapshot.</summary>
    internal static bool Same(Deployment a, Deployment b) => a.Provider.Name == b.Provider.Name && a.VendorModel == b.VendorModel;

    public sealed record DeploymentResult(string Provider, string Model, bool Ok, int? Status, double LatencyMs, string? RequestId, string? Error);

    public sealed record ProbeResult(string Model, string Endpoint, bool Ok, IReadOnlyList<DeploymentResult> Deployments);

    /// <param name="endpoint">chat or embeddings; null guesses from the names (embeddings when one says "embed").</param>
    /// <returns>null when there is no such model.</returns>
    public async Task<ProbeResult?> TestAsync(string model, GatewayEndpoint? endpoint, CancellationToken ct)
    {
        if (!catalog.Current.Models.TryGetValue(model, out var route))
        {
            return null;
        }
        var kind = endpoint ?? (route.Name.Contains("embed", StringComparison.OrdinalIgnoreCase)
            || route.Deployments.Any(d => d.VendorModel.Contains("embed", StringComparison.OrdinalIgnoreCase))
            ? GatewayEndpoint.Embeddings : GatewayEndpoint.ChatCompletions);
        var bearer = await BearerAsync(ct);
        var results = new List<DeploymentResult>();
        foreach (var deployment in route.Deployments)
        {
            results.Add(deployment.Settings.Enabled
                ? await CallAsync(route, deployment, kind, bearer, ct)
                : new DeploymentResult(deployment.Provider.Name, deployment.VendorModel, false, null, 0, null, "disabled: not called (out of routing)"));
        }
        return new ProbeResult(route.Name, kind == GatewayEndpoint.Embeddings ? "embeddings" : "chat", results.All(r => r.Ok), results);
    }

    private async Task<DeploymentResult> CallAsync(ModelRoute route, Deployment deployment, GatewayEndpoint kind, string bearer, CancellationToken ct)
    {
        var body = kind == GatewayEndpoint.Embeddings
            ? new JsonObject { ["model"] = route.Name, ["input"] = "ping" }
            : new JsonObject
            {
                ["model"] = route.Name,
                ["max_tokens"] = 1,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Reply with OK." }),
            };
        var ctx = new DefaultHttpContext { RequestAborted = ct };
        ctx.Request.Method = HttpMethods.Post;
        ctx.Request.Path = kind == GatewayEndpoint.Embeddings ? "/v1/embeddings" : "/v1/chat/completions";
        ctx.Request.ContentType = "application/json";
        ctx.Request.Headers.Authorization = "Bearer " + bearer;
        ctx.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body.ToJsonString()));
        using var response = new MemoryStream();
        ctx.Response.Body = response;
        ctx.Features.Set(new PinnedDeployment(deployment));
        var started = Stopwatch.GetTimestamp();
        await proxy.HandleAsync(ctx, kind);
        var latency = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1);
        var status = ctx.Response.StatusCode;
        var requestId = ctx.Response.Headers[GatewayProxy.RequestIdHeader].ToString();
        return new DeploymentResult(deployment.Provider.Name, deployment.VendorModel, status == StatusCodes.Status200OK, status, latency, requestId,
            status == StatusCodes.Status200OK ? null : ErrorMessage(response.ToArray()));
    }

    // The gateway's own error message: already free of upstream keys, and it carries the upstream's reason.
    private static string ErrorMessage(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() ?? "the gateway answered with an error";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "the gateway answered with an error";
        }
    }

    private async Task<string> BearerAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _bearer) is { } known)
        {
            return known;
        }
        await _mint.WaitAsync(ct);
        try
        {
            if (_bearer is null)
            {
                var workspace = await store.FindWorkspaceAsync(AccessService.DefaultWorkspaceName, ct)
                    ?? throw new InvalidOperationException("the default workspace is missing");
                var secret = KeyMaterial.NewVirtualKey();
                ring.AddService(new VirtualKey(KeyId, workspace.Id, "model tests", KeyMaterial.Hash(secret), KeyMaterial.DisplayPrefix(secret),
                    null, null, null, null, null, null, time.GetUtcNow()));
                Volatile.Write(ref _bearer, secret);
            }
            return _bearer;
        }
        finally
        {
            _mint.Release();
        }
    }
}
