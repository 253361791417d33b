using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mulan.Access;
using Mulan.Audit;

namespace Mulan.People;

/// <summary>
/// <c>/api/users</c>. Instance administrators manage everyone; a workspace's admins manage its people below owner, and
/// its owners everyone in it. A workspace user acts in their current workspace only: a user or workspace outside it is 404.
/// </summary>
public static class UserEndpoints
{
    public sealed record CreateUserRequest(string? Email, string? Name, string? Password, string? Workspace, string? Role, bool? InstanceAdmin);

    public sealed record UpdateUserRequest(string? Role, string? Workspace, bool? Disabled);

    public sealed record InvitationView(string Url, DateTimeOffset ExpiresAt);

    public sealed record UserDetail(string Id, string Email, string? Name, bool InstanceAdmin, bool Disabled, bool HasPassword, DateTimeOffset? LockedUntil,
        DateTimeOffset CreatedAt, IReadOnlyList<AuthEndpoints.MembershipView> Memberships,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] InvitationView? Invitation = null);

    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users");
        users.MapPost("", CreateAsync).RequireAccess(WorkspaceRole.Admin).WithName("CreateUser")
            .WithSummary("Create a user with a role in a workspace (or add an existing one); without a password the answer carries an invitation link.");
        users.MapGet("", ListAsync).RequireAccess(WorkspaceRole.Admin).WithName("ListUsers")
            .WithSummary("Users: everyone for an instance administrator, the workspace's people for its admins and owners.");
        users.MapPatch("/{id}", UpdateAsync).RequireAccess(WorkspaceRole.Admin).WithName("UpdateUser")
            .WithSummary("Change a user's role in a workspace, or disable them (instance administrators).");
        users.MapDelete("/{id}", DeleteAsync).RequireAccess(WorkspaceRole.Admin).WithName("DeleteUser")
            .WithSummary("Remove a user from a workspace (?workspace=), or delete them (instance administrators, without ?workspace=).");
        return api;
    }

    private static async Task<IResult> CreateAsync(CreateUserRequest? body, HttpContext ctx, IPeopleStore people, IAccessStore workspaces, AuditLog audit,
        TimeProvider time, IOptions<PeopleOptions> options, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        var errors = new Dictionary<string, string[]>();
        var email = body?.Email is { } raw ? PeopleSecrets.NormalizeEmail(raw) : null;
        if (email is null || email.Length is 0 or > 254 || email.IndexOf('@') is <= 0 || email.IndexOf('@') == email.Length - 1 || email.Any(char.IsWhiteSpace))
        {
            errors["email"] = ["required: an email address (at most 254 characters)"];
        }
        var name = body?.Name?.Trim();
        if (name is { Length: > 200 })
        {
            errors["name"] = ["at most 200 characters"];
        }
        if (body?.Password is not null && email is not null && SignInService.CheckPassword(body.Password, email) is { } weak)
        {
            errors["password"] = [weak];
        }
        var instanceAdmin = body?.InstanceAdmin == true;
        WorkspaceRole? role = null;
        if (body?.Role is not null || !instanceAdmin)
        {
            role = WorkspaceRoles.Parse(body?.Role);
            if (role is null)
            {
                errors["role"] = ["one of owner, admin, member, viewer"];
            }
        }
        var (workspace, missing) = await TargetWorkspaceAsync(caller, body?.Workspace, role is not null || !instanceAdmin, workspaces, ct);
        if (missing is not null)
        {
            if (missing.Value.NotFound)
            {
                return NotFoundWorkspace(body?.Workspace);
            }
            errors["workspace"] = [missing.Value.Message];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (instanceAdmin && !caller.IsAdmin)
        {
            return Forbidden("Only an instance administrator may create another.");
        }
        if (role == WorkspaceRole.Owner && !caller.Can(WorkspaceRole.Owner))
        {
            return Forbidden("A workspace admin may not make owners; an owner may.");
        }
        var now = time.GetUtcNow();
        var existing = await people.FindUserByEmailAsync(email!, ct);
        if (existing is not null && (body!.Password is not null || instanceAdmin))
        {
            return Results.Problem(statusCode: 409, title: "Conflict", detail: $"A user with the email '{email}' exists: add them to the workspace without a password.");
        }
        var user = existing ?? new UserAccount(KeyMaterial.NewId("usr"), email!, string.IsNullOrEmpty(name) ? null : name, null, instanceAdmin, false, 0, null, now);
        if (existing is null)
        {
            if (body!.Password is not null)
            {
                user = user with { PasswordHash = SignInService.HashPassword(user, body.Password) };
            }
            var membership = workspace is null ? null : new Membership(user.Id, workspace.Id, role!.Value, now);
            if (!await people.CreateUserAsync(user, membership, ct))
            {
                return Results.Problem(statusCode: 409, title: "Conflict", detail: $"A user with the email '{email}' exists.");
            }
        }
        else
        {
            if (await MembershipOf(people, existing.Id, workspace!.Id, ct) is { Role: WorkspaceRole.Owner } && !caller.Can(WorkspaceRole.Owner))
            {
                return Forbidden("A workspace admin may not change an owner.");
            }
            await people.SetMembershipAsync(new Membership(existing.Id, workspace.Id, role!.Value, now), ct);
        }
        InvitationView? invitation = null;
        if (user.PasswordHash is null)
        {
            var token = PeopleSecrets.NewInvitation();
            var expires = now.AddHours(options.Value.InvitationHours);
            await people.CreateInvitationAsync(new Invitation(KeyMaterial.Hash(token), user.Id, expires, now), ct);
            invitation = new InvitationView("/invite/" + token, expires);
        }
        var details = new JsonObject { ["email"] = user.Email, ["instanceAdmin"] = user.InstanceAdmin };
        if (workspace is not null)
        {
            details["role"] = WorkspaceRoles.Name(role!.Value);
        }
        await audit.RecordAsync(new AuditEntry(caller.Actor, existing is null ? AuditActions.UserCreated : AuditActions.UserUpdated, "user", user.Id, workspace?.Id, details));
        if (invitation is not null)
        {
            await audit.RecordAsync(new AuditEntry(caller.Actor, AuditActions.UserInvited, "user", user.Id, workspace?.Id,
                new JsonObject { ["email"] = user.Email, ["expiresAt"] = invitation.ExpiresAt.ToString("O") }));
        }
        var view = await DetailAsync(user, people, workspaces, VisibleTo(caller), ct) with { Invitation = invitation };
        return existing is null ? TypedResults.Created($"/api/users/{user.Id}", view) : TypedResults.Ok(view);
    }

    private static async Task<IResult> ListAsync(HttpContext ctx, IPeopleStore people, IAccessStore workspaces, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        var scope = VisibleTo(caller);
        var users = await people.ListUsersAsync(scope, ct);
        var views = new List<UserDetail>(users.Count);
        foreach (var u in users)
        {
            views.Add(await DetailAsync(u, people, workspaces, scope, ct));
        }
        return TypedResults.Ok(new { users = views });
    }

    private static async Task<IResult> UpdateAsync(string id, UpdateUserRequest? body, HttpContext ctx, IPeopleStore people, IAccessStore workspaces,
        AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        if (await VisibleUserAsync(caller, id, people, ct) is not { } user)
        {
            return NotFoundUser(id);
        }
        var errors = new Dictionary<string, string[]>();
        var role = body?.Role is null ? (WorkspaceRole?)null : WorkspaceRoles.Parse(body.Role);
        if (body?.Role is not null && role is null)
        {
            errors["role"] = ["one of owner, admin, member, viewer"];
        }
        if (body is null || (body.Role is null && body.Disabled is null))
        {
            errors["role"] = ["give role (with workspace) or disabled"];
        }
        var (workspace, missing) = role is null ? (null, null) : await TargetWorkspaceAsync(caller, body!.Workspace, true, workspaces, ct);
        if (missing is { NotFound: true })
        {
            return NotFoundWorkspace(body!.Workspace);
        }
        if (missing is { } m)
        {
            errors["workspace"] = [m.Message];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (body!.Disabled is not null && !caller.IsAdmin)
        {
            return Forbidden("Only an instance administrator may disable or enable a user (it applies to every workspace).");
        }
        if (role is not null)
        {
            var current = await MembershipOf(people, user.Id, workspace!.Id, ct);
            if ((role == WorkspaceRole.Owner || current?.Role == WorkspaceRole.Owner) && !caller.Can(WorkspaceRole.Owner))
            {
                return Forbidden("A workspace admin may not make or change owners; an owner may.");
            }
            await people.SetMembershipAsync(new Membership(user.Id, workspace.Id, role.Value, current?.CreatedAt ?? time.GetUtcNow()), ct);
        }
        if (body.Disabled is { } disabled)
        {
            await people.SetDisabledAsync(user.Id, disabled, ct);
            if (disabled)
            {
                await people.DeleteUserSessionsAsync(user.Id, ct);
            }
        }
        var details = new JsonObject();
        if (role is not null)
        {
            details["role"] = WorkspaceRoles.Name(role.Value);
        }
        if (body.Disabled is { } d)
        {
            details["disabled"] = d;
        }
        await audit.RecordAsync(new AuditEntry(caller.Actor, AuditActions.UserUpdated, "user", user.Id, workspace?.Id, details));
        return TypedResults.Ok(await DetailAsync((await people.FindUserAsync(user.Id, ct))!, people, workspaces, VisibleTo(caller), ct));
    }

    private static async Task<IResult> DeleteAsync(string id, string? workspace, HttpContext ctx, IPeopleStore people, IAccessStore workspaces, AuditLog audit,
        CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        if (await VisibleUserAsync(caller, id, people, ct) is not { } user)
        {
            return NotFoundUser(id);
        }
        if (workspace is null && caller.IsAdmin)
        {
            await people.DeleteUserAsync(user.Id, ct);
            await audit.RecordAsync(new AuditEntry(caller.Actor, AuditActions.UserRemoved, "user", user.Id, null, new JsonObject { ["email"] = user.Email }));
            return TypedResults.NoContent();
        }
        var (target, missing) = await TargetWorkspaceAsync(caller, workspace, true, workspaces, ct);
        if (missing is not null || target is null)
        {
            return NotFoundWorkspace(workspace);
        }
        if (await MembershipOf(people, user.Id, target.Id, ct) is not { } membership)
        {
            return NotFoundUser(id);
        }
        if (membership.Role == WorkspaceRole.Owner && !caller.Can(WorkspaceRole.Owner))
        {
            return Forbidden("A workspace admin may not remove an owner; an owner may.");
        }
        await people.RemoveMembershipAsync(user.Id, target.Id, ct);
        await audit.RecordAsync(new AuditEntry(caller.Actor, AuditActions.UserRemoved, "user", user.Id, target.Id, new JsonObject { ["email"] = user.Email }));
        return TypedResults.NoContent();
    }

    /// <summary>The workspace a request acts on: any (by id or name) for administrators, else the caller's current one;
    /// naming another is 404.</summary>
    private static async Task<(Workspace? Workspace, (bool NotFound, string Message)? Missing)> TargetWorkspaceAsync(Caller caller, string? named, bool required,
        IAccessStore workspaces, CancellationToken ct)
    {
        if (!caller.IsAdmin)
        {
            var own = await workspaces.FindWorkspaceAsync(caller.WorkspaceId!, ct);
            if (own is null || (named is not null && named != own.Id && !string.Equals(named, own.Name, StringComparison.OrdinalIgnoreCase)))
            {
                return (null, (true, ""));
            }
            return (own, null);
        }
        if (string.IsNullOrWhiteSpace(named))
        {
            return required ? (null, (false, "required: the workspace (id or name)")) : (null, null);
        }
        var found = await workspaces.FindWorkspaceAsync(named.Trim(), ct);
        return found is null ? (null, (false, $"no workspace '{Cut(named)}'")) : (found, null);
    }

    /// <summary>Null for administrators (every workspace), else the caller's current workspace.</summary>
    private static string? VisibleTo(Caller caller) => caller.IsAdmin ? null : caller.WorkspaceId;

    private static async Task<UserAccount?> VisibleUserAsync(Caller caller, string id, IPeopleStore people, CancellationToken ct)
    {
        if (id.Length > 100 || await people.FindUserAsync(id, ct) is not { } user)
        {
            return null;
        }
        return caller.IsAdmin || await MembershipOf(people, user.Id, caller.WorkspaceId!, ct) is not null ? user : null;
    }

    private static async Task<Membership?> MembershipOf(IPeopleStore people, string userId, string workspaceId, CancellationToken ct) =>
        (await people.MembershipsAsync(userId, ct)).FirstOrDefault(m => m.WorkspaceId == workspaceId);

    private static async Task<UserDetail> DetailAsync(UserAccount u, IPeopleStore people, IAccessStore workspaces, string? scope, CancellationToken ct)
    {
        var memberships = new List<AuthEndpoints.MembershipView>();
        foreach (var m in await people.MembershipsAsync(u.Id, ct))
        {
            // A workspace admin sees the person's role in their own workspace, not where else they work.
            if ((scope is null || m.WorkspaceId == scope) && await workspaces.FindWorkspaceAsync(m.WorkspaceId, ct) is { } w)
            {
                memberships.Add(new AuthEndpoints.MembershipView(new AuthEndpoints.WorkspaceRef(w.Id, w.Name), m.Role));
            }
        }
        return new UserDetail(u.Id, u.Email, u.Name, u.InstanceAdmin, u.Disabled, u.PasswordHash is not null, u.LockedUntil, u.CreatedAt, memberships);
    }

    private static IResult NotFoundUser(string id) => Results.Problem(statusCode: 404, title: "Not Found", detail: $"No user '{Cut(id)}'.");

    private static IResult NotFoundWorkspace(string? named) => Results.Problem(statusCode: 404, title: "Not Found", detail: $"No workspace '{Cut(named ?? "")}'.");

    internal static IResult Forbidden(string detail) =>
        Results.Problem(statusCode: 403, title: "Forbidden", detail: detail, extensions: new Dictionary<string, object?> { ["code"] = "forbidden" });

    internal static string Cut(string s) => s.Length > 64 ? s[..64] + "…" : s;
}
