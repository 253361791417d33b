using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Mulan.Telemetry;

/// <summary>Who may scrape <c>/metrics</c> (<see cref="MetricsOptions.Access"/>): checked before the exporter runs.</summary>
public static class MetricsAccessCheck
{
    public static Func<HttpContext, RequestDelegate, Task> Create(MetricsOptions options)
    {
        var token = options.Token is { } t ? Encoding.UTF8.GetBytes(t) : null;
        return (ctx, next) =>
        {
            var allowed = options.Access switch
            {
                MetricsAccess.Open => true,
                MetricsAccess.Token => token is not null && HasToken(ctx.Request, token),
                _ => FromThisMachine(ctx),
            };
            if (allowed)
            {
                return next(ctx);
            }
            ctx.Response.StatusCode = options.Access == MetricsAccess.Token ? 401 : 403;
            if (options.Access == MetricsAccess.Token)
            {
                ctx.Response.Headers.WWWAuthenticate = "Bearer";
            }
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            return ctx.Response.WriteAsync(options.Access == MetricsAccess.Token
                ? "/metrics needs Authorization: Bearer <Telemetry:Metrics:Token>.\n"
                : "/metrics answers connections from this machine only (Telemetry:Metrics:Access=Loopback).\n");
        };
    }

    /// <summary>A loopback connection that no proxy relayed: a proxy on this machine would otherwise make every
    /// client look local.</summary>
    private static bool FromThisMachine(HttpContext ctx) =>
        ctx.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
        && !ctx.Request.Headers.ContainsKey("X-Forwarded-For") && !ctx.Request.Headers.ContainsKey("Forwarded")
        && !ctx.Request.Headers.ContainsKey("X-Real-IP");

    private static bool HasToken(HttpRequest request, byte[] token)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var given = Encoding.UTF8.GetBytes(header[7..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, token);
    }
}
