using Mulan.Access;
using Mulan.Audit;

namespace Mulan.Knowledge;

/// <summary>Who is calling the knowledge API: the administrator (every workspace) or a virtual key (its own workspace only).</summary>
public sealed record KnowledgeCaller(string? WorkspaceId, bool IsAdmin, string? KeyId = null)
{
    private const string ItemKey = "mulan.knowledge.caller";

    /// <summary>The caller as the audit log names it.</summary>
    public string Actor => IsAdmin ? AuditActor.Admin : AuditActor.Key(KeyId ?? "");

    public static KnowledgeCaller Of(HttpContext ctx) => (KnowledgeCaller)ctx.Items[ItemKey]!;

    /// <summary>Admin key or a virtual key; anything else is 401. Keys of another workspace then see 404s, never 403s.</summary>
    public static RouteGroupBuilder RequireKnowledgeCaller(RouteGroupBuilder group) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var presented = BearerToken.Of(http.Request);
            KnowledgeCaller? caller = null;
            if (http.RequestServices.GetRequiredService<AdminKey>().Matches(presented))
            {
                caller = new KnowledgeCaller(null, true);
            }
            else if (http.RequestServices.GetRequiredService<AccessService>().Authenticate(presented) is { } key)
            {
                caller = new KnowledgeCaller(key.WorkspaceId, false, key.Id);
            }
            if (caller is null)
            {
                return Results.Problem(statusCode: 401, title: "Unauthorized", detail: "Pass the administrator key or a virtual key as 'Authorization: Bearer <key>'.");
            }
            http.Items[ItemKey] = caller;
            return await next(context);
        });
}
