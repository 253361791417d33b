using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Mulan.Hosting;

/// <summary>This server's own base address, for features that call its gateway as a client would.</summary>
public sealed class SelfAddress(IServer server)
{
    public Uri Get()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("The server has no http address to call its own gateway on.");
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "127.0.0.1";
        }
        return new Uri(uri.Uri.GetLeftPart(UriPartial.Authority) + "/");
    }
}
