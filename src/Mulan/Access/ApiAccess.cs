using Mulan.People;

namespace Mulan.Access;

/// <summary>
/// The <c>/api</c> gate before any handler or route filter: resolves the caller once and refuses a cookie-authenticated
/// unsafe request without the session's CSRF token (400 <c>antiforgery</c>). Bearer requests need none: a browser
/// never attaches an <c>Authorization</c> header on its own, so they cannot be forged cross-site.
/// </summary>
public static class ApiAccess
{
    public static WebApplication UseApiAccess(this WebApplication app)
    {
        app.Use(async (ctx, next) =>
        {
            // Only real route endpoints: the framework's 405 endpoint and unknown paths keep their own answers.
            if (!ctx.Request.Path.StartsWithSegments("/api") || ctx.GetEndpoint() is not RouteEndpoint endpoint
                || endpoint.Metadata.GetMetadata<RequiredAccess>() is { Level: AccessLevel.Anonymous })
            {
                await next(ctx);
                return;
            }
            var caller = await CallerGate.ResolveAsync(ctx);
            if (caller is null)
            {
                await Results.Problem(statusCode: 401, title: "Unauthorized",
                    detail: "Sign in (POST /api/auth/login), or pass the administrator key, a virtual key or a personal token as 'Authorization: Bearer <key>'.")
                    .ExecuteAsync(ctx);
                return;
            }
            if (caller is { ViaCookie: true } && !HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method)
                && !HttpMethods.IsOptions(ctx.Request.Method) && !SessionCsrf.Matches(caller, ctx.Request.Headers[SessionCsrf.HeaderName].ToString()))
            {
                await Results.Problem(statusCode: 400, title: "Bad Request",
                    detail: $"A request signed in with the session cookie must send the '{SessionCsrf.HeaderName}' header (csrfToken from GET /api/auth/me).",
                    extensions: new Dictionary<string, object?> { ["code"] = "antiforgery" }).ExecuteAsync(ctx);
                return;
            }
            if (RoleMatrix.Refuse(ctx, endpoint, caller) is { } refused)
            {
                await refused.ExecuteAsync(ctx);
                return;
            }
            await next(ctx);
        });
        return app;
    }
}
