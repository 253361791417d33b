using System.Diagnostics;
using System.Net.Sockets;

namespace Mulan.Bench.Hosting;

/// <summary>Readiness for programs that print nothing reliable when ready (nginx, Portkey): the port accepts.</summary>
internal static class PortProbe
{
    public static async Task<bool> WaitListeningAsync(int port, ChildProcess process, TimeSpan timeout, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < timeout && !process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, ct);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(100, ct);
            }
        }

        return false;
    }
}
