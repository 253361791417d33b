using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Audit;

namespace Mulan.People;

/// <summary><c>/api/tokens</c>: a signed-in user's personal API tokens (<c>mp-…</c>), shown once, stored as hashes,
/// optionally limited to one of their workspaces, revocable. They act with the user's own roles, never more.</summary>
public static class TokenEndpoints
{
    public sealed record CreateTokenRequest(string? Name, string? Workspace, int? ExpiresInDays);

    public sealed record TokenView(string Id, string Name, string Prefix, string? Workspace, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt,
        DateTimeOffset CreatedAt,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Token = null)
    {
        public static TokenView From(PersonalToken t, string? secret = null) =>
            new(t.Id, t.Name, t.DisplayPrefix, t.WorkspaceId, t.ExpiresAt, t.RevokedAt, t.CreatedAt, secret);
    }

    public static RouteGroupBuilder MapTokens(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/tokens");
        tokens.MapPost("", CreateAsync).RequireAccess(RequiredAccess.SignedIn).WithName("CreateToken")
            .WithSummary("Create a personal API token; the token is returned only here.");
        tokens.MapGet("", ListAsync).RequireAccess(RequiredAccess.SignedIn).WithName("ListTokens").WithSummary("Your personal tokens (never the tokens themselves).");
        tokens.MapDelete("/{id}", RevokeAsync).RequireAccess(RequiredAccess.SignedIn).WithName("RevokeToken").WithSummary("Revoke one of your tokens; it stops working at once.");
        return api;
    }

    private static async Task<IResult> CreateAsync(CreateTokenRequest? body, HttpContext ctx, IPeopleStore people, IAccessStore workspaces, AuditLog audit,
        TimeProvider time, IOptions<PeopleOptions> options, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        var errors = new Dictionary<string, string[]>();
        var name = body?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            errors["name"] = ["required, at most 100 characters"];
        }
        var max = options.Value.MaxTokenDays;
        if (body?.ExpiresInDays is { } days && (days < 1 || days > max))
        {
            errors["expiresInDays"] = [$"must be between 1 and {max}"];
        }
        string? workspaceId = null;
        if (body?.Workspace is { } named)
        {
            var w = await workspaces.FindWorkspaceAsync(named.Trim(), ct);
            // Only a workspace of one's own (any, for an instance administrator); others are not told apart from none.
            if (w is null || (caller.Kind != CallerKind.InstanceAdmin && !caller.Memberships.Any(m => m.WorkspaceId == w.Id)))
            {
                return Results.Problem(statusCode: 404, title: "Not Found", detail: $"No workspace '{UserEndpoints.Cut(named)}'.");
            }
            workspaceId = w.Id;
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (caller.UserId is not { } userId)
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad Request",
                detail: "The administrator key has no personal tokens: sign in as a user, or use the key itself.");
        }
        var now = time.GetUtcNow();
        var secret = PeopleSecrets.NewToken();
        var token = new PersonalToken(KeyMaterial.NewId("tok"), userId, name!, KeyMaterial.Hash(secret), KeyMaterial.DisplayPrefix(secret), workspaceId,
            now.AddDays(body!.ExpiresInDays ?? max), null, now);
        await people.CreateTokenAsync(token, ct);
        await audit.RecordAsync(new AuditEntry(caller.Actor, AuditActions.TokenCreated, "token", token.Id, workspaceId,
            new JsonObject { ["name"] = token.Name, ["expiresAt"] = token.ExpiresAt?.ToString("O") }));
        return TypedResults.Created($"/api/tokens/{token.Id}", TokenView.From(token, secret));
    }

    private static async Task<IResult> ListAsync(HttpContext ctx, IPeopleStore people, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        var tokens = caller.UserId is { } id ? await people.ListTokensAsync(id, ct) : [];
        return TypedResults.Ok(new { tokens = tokens.Select(t => TokenView.From(t)) });
    }

    private static async Task<IResult> RevokeAsync(string id, HttpContext ctx, IPeopleStore people, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        if (caller.UserId is not { } userId || id.Length > 100 || !await people.RevokeTokenAsync(id, userId, time.GetUtcNow(), ct))
        {
            return Results.Problem(statusCode: 404, title: "Not Found", detail: $"No active token '{UserEndpoints.Cut(id)}' of yours.");
        }
        await audit.RecordAsync(new AuditEntry(caller.Actor, AuditActions.TokenRevoked, "token", id, null, null));
        return TypedResults.NoContent();
    }
}
