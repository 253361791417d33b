using Microsoft.AspNetCore.Http.Features;
using Mulan.Access;
using Mulan.Gateway.Wire;

namespace Mulan.Assistant.Mcp;

/// <summary>The virtual key an <c>/mcp</c> request was authenticated with, and the secret it presented (passed on to the gateway, never shown).</summary>
public sealed record McpCaller(VirtualKey Key, string Bearer)
{
    private const string ItemKey = "mulan.mcp.caller";

    /// <summary>Largest JSON-RPC request body: tool arguments are short texts; anything larger is refused before it is read.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>The caller of the request a tool handler runs in (stateless: the handler runs inside that very request).</summary>
    public static McpCaller Of(IServiceProvider? services)
    {
        var http = services?.GetRequiredService<IHttpContextAccessor>().HttpContext;
        return http?.Items[ItemKey] as McpCaller
            ?? throw new InvalidOperationException("an MCP request reached a tool handler without an authenticated caller");
    }

    /// <summary>
    /// Wraps the MCP endpoints: a request without a live virtual key is answered 401 before the MCP handler sees it.
    /// The administrator key is refused too: what tools a caller sees and what its calls cost belong to a key of one
    /// workspace, and the administrator key has neither a workspace nor a ledger of its own.
    /// </summary>
    public static void RequireVirtualKey(EndpointBuilder endpoint)
    {
        var next = endpoint.RequestDelegate ?? throw new InvalidOperationException("an MCP endpoint without a handler");
        endpoint.RequestDelegate = async ctx =>
        {
            var bearer = BearerToken.Of(ctx.Request);
            var key = ctx.RequestServices.GetRequiredService<AccessService>().Authenticate(bearer);
            if (key is null)
            {
                // Never the presented key back: only the fixed message.
                ctx.Response.Headers.WWWAuthenticate = "Bearer";
                await OpenAIError.InvalidKey().WriteAsync(ctx.Response);
                return;
            }
            if (ctx.Request.ContentLength > MaxRequestBodyBytes)
            {
                await OpenAIError.TooLarge(MaxRequestBodyBytes).WriteAsync(ctx.Response);
                return;
            }
            if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxRequestBodyBytes;
            }
            ctx.Items[ItemKey] = new McpCaller(key, bearer!);
            await next(ctx);
        };
    }
}
