namespace Mulan.Access;

public enum AccessLevel
{
    /// <summary>No credentials needed (sign-in, accepting an invitation).</summary>
    Anonymous,
    /// <summary>Any signed-in person or the administrator; not a virtual key (own session and tokens).</summary>
    SignedIn,
    /// <summary>A role in the request's workspace (administrators always pass).</summary>
    Workspace,
    /// <summary>The administrator key or an instance administrator user.</summary>
    Instance,
}

/// <summary>What an <c>/api</c> endpoint requires, as endpoint metadata read by <see cref="RoleMatrix"/>. The last one
/// wins, so an endpoint's own overrides its group's. An endpoint without one is for instance administrators only.</summary>
public sealed record RequiredAccess(AccessLevel Level, WorkspaceRole? Role = null)
{
    public static readonly RequiredAccess Anonymous = new(AccessLevel.Anonymous);
    public static readonly RequiredAccess SignedIn = new(AccessLevel.SignedIn);
    public static readonly RequiredAccess Instance = new(AccessLevel.Instance);

    public override string ToString() => Level == AccessLevel.Workspace ? WorkspaceRoles.Name(Role!.Value) : Level.ToString().ToLowerInvariant();
}

public static class RequiredAccessExtensions
{
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, WorkspaceRole role) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredAccess(AccessLevel.Workspace, role));

    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, RequiredAccess access) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(access);

    public static TBuilder RequireInstanceAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(RequiredAccess.Instance);
}

/// <summary>
/// The role matrix, enforced in one place for every <c>/api</c> endpoint (see docs/people.md). Virtual keys are not
/// judged here: they keep exactly the behaviour they had before users existed (their route filters and handlers decide,
/// and they count as members), except that people's own endpoints are not theirs.
/// </summary>
public static class RoleMatrix
{
    public static IResult? Refuse(HttpContext ctx, Endpoint endpoint, Caller caller)
    {
        var required = endpoint.Metadata.GetMetadata<RequiredAccess>() ?? RequiredAccess.Instance;
        if (caller.Kind == CallerKind.VirtualKey)
        {
            return required.Level == AccessLevel.SignedIn ? Forbidden("Virtual keys call the gateway and workspace routes, not people's own routes.") : null;
        }
        return required.Level switch
        {
            AccessLevel.Anonymous or AccessLevel.SignedIn => null,
            AccessLevel.Instance => caller.IsAdmin ? null : Forbidden("Only an instance administrator may do this."),
            _ when caller.IsAdmin => null,
            _ when caller.WorkspaceId is null => CallerGate.NoWorkspace(ctx, caller),
            _ => caller.Can(required.Role!.Value) ? null
                : Forbidden($"Your role in this workspace ({WorkspaceRoles.Name(caller.Role!.Value)}) may not do this; it needs {WorkspaceRoles.Name(required.Role!.Value)}."),
        };
    }

    private static IResult Forbidden(string detail) =>
        Results.Problem(statusCode: 403, title: "Forbidden", detail: detail, extensions: new Dictionary<string, object?> { ["code"] = "forbidden" });
}
