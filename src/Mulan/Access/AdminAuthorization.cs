namespace Mulan.Access;

/// <summary>Requires the administrator's bearer key on a route group; answers RFC 7807 401 otherwise.</summary>
public static class AdminAuthorization
{
    public static RouteGroupBuilder RequireAdminKey(this RouteGroupBuilder group) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var presented = BearerToken.Of(http.Request);
            if (!http.RequestServices.GetRequiredService<AdminKey>().Matches(presented))
            {
                return Results.Problem(statusCode: 401, title: "Unauthorized",
                    detail: "Pass the administrator key as 'Authorization: Bearer <key>'.");
            }
            return await next(context);
        });
}
