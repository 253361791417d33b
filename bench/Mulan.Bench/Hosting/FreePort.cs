using System.Net;
using System.Net.Sockets;

namespace Mulan.Bench.Hosting;

/// <summary>A loopback port free right now, for programs that cannot bind port 0 and report it (nginx, Portkey, Mulan).</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
