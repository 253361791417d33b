using System.Text.Json.Nodes;
using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters.AzureOpenAI;

/// <summary>
/// Azure OpenAI (<c>POST {baseUrl}/openai/deployments/{deployment}/chat/completions?api-version=…</c> and
/// <c>/embeddings</c>, <c>api-key</c> header). The deployment's model is the Azure deployment name, which picks the
/// model; the body and the answers are OpenAI's, so a success (streamed or not) passes through unchanged, Azure's
/// additions (<c>prompt_filter_results</c>, <c>content_filter_results</c>, a <c>content_filter</c> finish reason)
/// included. Only errors are translated: Azure refuses filtered prompts with 400 <c>content_filter</c>.
/// </summary>
public sealed class AzureOpenAIAdapter : IVendorAdapter
{
    /// <summary>
    /// The data-plane version every call uses: the current GA version at the time of writing. It is fixed here
    /// rather than configurable per provider, because a version changes request and response shapes and the
    /// gateway is built and tested against this one.
    /// </summary>
    public const string ApiVersion = "2024-10-21";

    public WireProtocol Protocol => WireProtocol.AzureOpenAI;

    public async Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct)
    {
        var provider = call.Deployment.Provider;
        var request = new HttpRequestMessage(HttpMethod.Post, RequestUri(provider.BaseUrl, call.Deployment.VendorModel, call.Request.Endpoint))
        {
            Content = VendorHttp.JsonContent(TranslateRequest(call.Request.Body, call.Request.Stream)),
        };
        request.Headers.TryAddWithoutValidation("api-key", provider.ApiKey ?? "");
        var response = await VendorHttp.SendAsync(call, request, ct);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            var error = await VendorHttp.ReadJsonAsync(response, 64 * 1024, ct);
            return MapError((int)response.StatusCode, error, VendorHttp.RetryAfter(response)).ToResponse();
        }
    }

    public static Uri RequestUri(Uri baseUrl, string deployment, GatewayEndpoint endpoint) =>
        new($"{baseUrl.AbsoluteUri.TrimEnd('/')}/openai/deployments/{Uri.EscapeDataString(deployment)}/" +
            $"{(endpoint == GatewayEndpoint.ChatCompletions ? "chat/completions" : "embeddings")}?api-version={ApiVersion}");

    /// <summary>
    /// The client's body for Azure: <c>model</c> dropped (the deployment in the path names it) and, for streams,
    /// usage requested, as for any OpenAI-compatible upstream (the gateway meters from it).
    /// </summary>
    public static JsonObject TranslateRequest(JsonObject openAI, bool stream)
    {
        var body = openAI.DeepClone().AsObject();
        body.Remove("model");
        if (stream)
        {
            if (body["stream_options"] is JsonObject options)
            {
                options["include_usage"] = true;
            }
            else
            {
                body["stream_options"] = new JsonObject { ["include_usage"] = true };
            }
        }
        return body;
    }

    /// <summary>Azure error (<c>{"error":{"code","message","innererror"?}}</c>) → canonical error.</summary>
    public static VendorError MapError(int status, JsonNode? body, TimeSpan? retryAfter)
    {
        var error = body?["error"];
        var code = Code(error?["code"]);
        var innerCode = Code(error?["innererror"]?["code"]);
        var message = "Azure OpenAI: " + (OpenAIRequest.String(error?["message"]) ?? VendorHttp.Describe(body, status));
        if (code == "content_filter" || innerCode == "ResponsibleAIPolicyViolation")
        {
            return VendorError.Filtered(message);
        }
        if (code == "insufficient_quota" || OpenAIRequest.String(error?["type"]) == "insufficient_quota")
        {
            return VendorError.Quota(message);
        }
        return status switch
        {
            429 => VendorError.RateLimit(message, retryAfter),
            404 when code == "DeploymentNotFound" => VendorError.NoModel(message),
            _ => VendorError.ForStatus(status, message, retryAfter),
        };
    }

    // Azure writes some codes as strings ("429") and others as words ("DeploymentNotFound").
    private static string? Code(JsonNode? node) => node is JsonValue v
        ? v.TryGetValue<string>(out var s) ? s : v.TryGetValue<int>(out var n) ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : null
        : null;
}
