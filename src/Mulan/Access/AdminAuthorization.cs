namespace Mulan.Access;

/// <summary>Requires an administrator on a route group: the bootstrap key, a session signed in with it, or an instance
/// administrator user. No credentials (or a virtual key, as before users existed) is 401; a workspace user is 403.</summary>
public static class AdminAuthorization
{
    public static RouteGroupBuilder RequireAdminKey(this RouteGroupBuilder group) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var caller = await CallerGate.ResolveAsync(http);
            if (caller is null or { Kind: CallerKind.VirtualKey })
            {
                return Results.Problem(statusCode: 401, title: "Unauthorized",
                    detail: "Pass the administrator key as 'Authorization: Bearer <key>'.");
            }
            // An endpoint of the group may admit workspace users (e.g. the models list); the role matrix checked them already.
            if (!caller.IsAdmin && (http.GetEndpoint()?.Metadata.GetMetadata<RequiredAccess>()?.Level ?? AccessLevel.Instance) == AccessLevel.Instance)
            {
                return Results.Problem(statusCode: 403, title: "Forbidden", detail: "Only an instance administrator may do this.",
                    extensions: new Dictionary<string, object?> { ["code"] = "forbidden" });
            }
            Caller.Set(http, caller);
            return await next(context);
        });
}
