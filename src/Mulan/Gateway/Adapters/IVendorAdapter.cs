using Mulan.Gateway.Catalog;
using Mulan.Gateway.Wire;

namespace Mulan.Gateway.Adapters;

/// <summary>One call to a deployment whose vendor speaks its own protocol.</summary>
/// <param name="Request">the client's OpenAI-shaped request; adapters read it and never change it.</param>
/// <param name="ConnectTimeout">the deployment's connect limit; HTTP requests made through <see cref="VendorHttp"/> get it
/// applied by the shared handler, a WebSocket adapter applies it itself.</param>
public sealed record AdapterCall(Deployment Deployment, GatewayRequest Request, string RequestId, HttpClient Client, long MaxResponseBytes, TimeSpan ConnectTimeout);

/// <summary>
/// Translates the OpenAI chat and embeddings surface to one vendor protocol and back. The answer is an
/// OpenAI-shaped HTTP response, so routing, fallback, streaming relay and metering treat every vendor the same:
/// <list type="bullet">
/// <item>a failure (HTTP error, an error inside a 200 body or a first stream frame) becomes an OpenAI error object
/// with the canonical status and code of <see cref="VendorError"/>;</item>
/// <item>a completion becomes <c>chat.completion</c> / embeddings JSON with <c>usage</c>;</item>
/// <item>a stream becomes <c>chat.completion.chunk</c> events, a usage chunk and <c>[DONE]</c>
/// (see <see cref="AdapterResponse.StreamAsync"/>).</item>
/// </list>
/// An adapter may also throw <see cref="VendorError"/> before it has a response (a request it cannot translate,
/// credentials of the wrong form): the caller turns it into the same error response.
/// </summary>
public interface IVendorAdapter
{
    WireProtocol Protocol { get; }

    Task<HttpResponseMessage> SendAsync(AdapterCall call, CancellationToken ct);
}
