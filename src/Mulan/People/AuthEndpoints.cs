using System.Text.Json.Nodes;
using Mulan.Access;
using Mulan.Audit;

namespace Mulan.People;

/// <summary><c>/api/auth</c>: sign in (password or the administrator key), who am I, sign out, accept an invitation.</summary>
public static class AuthEndpoints
{
    public sealed record LoginRequest(string? Email, string? Password, string? AdminKey);

    public sealed record AcceptRequest(string? Token, string? Password, string? Name);

    public sealed record UserView(string Id, string? Email, string? Name, bool InstanceAdmin)
    {
        public static readonly UserView Administrator = new(Session.AdminUserId, null, "administrator", true);

        public static UserView From(UserAccount u) => new(u.Id, u.Email, u.Name, u.InstanceAdmin);
    }

    public sealed record WorkspaceRef(string Id, string Name);

    public sealed record MembershipView(WorkspaceRef Workspace, WorkspaceRole Role);

    public sealed record SignedIn(string Token, DateTimeOffset ExpiresAt, UserView User);

    public sealed record Me(UserView User, IReadOnlyList<MembershipView> Memberships, WorkspaceRef? CurrentWorkspace, string? CsrfToken);

    public static RouteGroupBuilder MapAuth(this RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth");
        auth.MapPost("/login", LoginAsync).RequireAccess(RequiredAccess.Anonymous).WithName("SignIn")
            .WithSummary("Sign in with email and password, or with the administrator key; sets the session cookie and returns the token.");
        auth.MapPost("/accept", AcceptAsync).RequireAccess(RequiredAccess.Anonymous).WithName("AcceptInvitation")
            .WithSummary("Accept an invitation: set the password and sign in.");
        auth.MapGet("/me", MeAsync).RequireAccess(RequiredAccess.SignedIn).WithName("Me")
            .WithSummary("Who is signed in, their workspaces and roles, and the CSRF token for cookie requests.");
        auth.MapPost("/logout", LogoutAsync).RequireAccess(RequiredAccess.SignedIn).WithName("SignOut").WithSummary("End this session.");
        return api;
    }

    private static async Task<IResult> LoginAsync(LoginRequest? body, HttpContext ctx, SignInService signIn, SignInThrottle throttle, AdminKey adminKey,
        AuditLog audit, CancellationToken ct)
    {
        if (throttle.TryAcquire(ctx) is { } wait)
        {
            return TooMany(ctx, wait, "Too many sign-in attempts from this address; try again later.");
        }
        if (body?.AdminKey is { } key && body.Email is null && body.Password is null)
        {
            if (!adminKey.Matches(key))
            {
                await audit.RecordAsync(new AuditEntry(AuditActor.Admin, PeopleAudit.SignInFailed, "user", Session.AdminUserId, null,
                    new JsonObject { ["method"] = "adminKey" }));
                return WrongCredentials();
            }
            var (adminToken, adminExpires) = await signIn.StartSessionAsync(Session.AdminSessionUser(adminKey.Fingerprint()!), ct);
            signIn.SetCookie(ctx, adminToken, adminExpires);
            await audit.RecordAsync(new AuditEntry(AuditActor.Admin, PeopleAudit.SignedIn, "user", Session.AdminUserId, null, new JsonObject { ["method"] = "adminKey" }));
            return TypedResults.Ok(new SignedIn(adminToken, adminExpires, UserView.Administrator));
        }
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body?.Email) || body.Email.Length > 254)
        {
            errors["email"] = ["required (at most 254 characters), or pass adminKey alone"];
        }
        if (string.IsNullOrEmpty(body?.Password) || body.Password.Length > SignInService.MaxPasswordLength)
        {
            errors["password"] = [$"required (at most {SignInService.MaxPasswordLength} characters)"];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var email = PeopleSecrets.NormalizeEmail(body!.Email!);
        switch (await signIn.CheckAsync(email, body.Password!, ct))
        {
            case SignInOutcome.Success { User: var user }:
                var (token, expires) = await signIn.StartSessionAsync(user.Id, ct);
                signIn.SetCookie(ctx, token, expires);
                await audit.RecordAsync(new AuditEntry(AuditActor.User(user.Id), PeopleAudit.SignedIn, "user", user.Id, null, new JsonObject { ["method"] = "password" }));
                return TypedResults.Ok(new SignedIn(token, expires, UserView.From(user)));
            case SignInOutcome.Locked { User: var user, RetryAfter: var retry }:
                await audit.RecordAsync(new AuditEntry(AuditActor.User(user.Id), PeopleAudit.SignInFailed, "user", user.Id, null,
                    new JsonObject { ["method"] = "password", ["reason"] = "locked" }));
                ctx.Response.Headers.RetryAfter = Seconds(retry);
                return Results.Problem(statusCode: 423, title: "Locked", detail: "Too many failed sign-ins: this account is locked for a while.",
                    extensions: new Dictionary<string, object?> { ["code"] = "locked" });
            case SignInOutcome.Failed { User: var user }:
                // The email as typed is kept (the audit log is for administrators), the password never.
                await audit.RecordAsync(new AuditEntry(user is null ? "anonymous" : AuditActor.User(user.Id), PeopleAudit.SignInFailed, "user", user?.Id ?? "unknown",
                    null, new JsonObject { ["method"] = "password", ["email"] = email.Length > 254 ? email[..254] : email }));
                return WrongCredentials();
            default:
                throw new InvalidOperationException("unreachable");
        }
    }

    private static async Task<IResult> AcceptAsync(AcceptRequest? body, HttpContext ctx, SignInService signIn, SignInThrottle throttle, IPeopleStore people,
        AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (throttle.TryAcquire(ctx) is { } wait)
        {
            return TooMany(ctx, wait, "Too many attempts from this address; try again later.");
        }
        if (string.IsNullOrEmpty(body?.Token) || body.Token.Length > 200)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["token"] = ["required: the token from the invitation link"] });
        }
        var hash = KeyMaterial.Hash(body.Token);
        var userId = await people.FindInvitationAsync(hash, time.GetUtcNow(), ct);
        var user = userId is null ? null : await people.FindUserAsync(userId, ct);
        if (user is null || user.Disabled)
        {
            return Results.Problem(statusCode: 400, title: "Bad Request", detail: "This invitation is not valid: it was used, it expired, or it never existed.",
                extensions: new Dictionary<string, object?> { ["code"] = "invitation_invalid" });
        }
        var errors = new Dictionary<string, string[]>();
        if (SignInService.CheckPassword(body.Password, user.Email) is { } problem)
        {
            errors["password"] = [problem];
        }
        var name = body.Name?.Trim();
        if (name is { Length: > 200 })
        {
            errors["name"] = ["at most 200 characters"];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        // Used once: of two concurrent accepts only one gets here.
        if (await people.UseInvitationAsync(hash, time.GetUtcNow(), ct) is null)
        {
            return Results.Problem(statusCode: 400, title: "Bad Request", detail: "This invitation is not valid: it was used, it expired, or it never existed.",
                extensions: new Dictionary<string, object?> { ["code"] = "invitation_invalid" });
        }
        await people.SetPasswordAsync(user.Id, SignInService.HashPassword(user, body.Password!), string.IsNullOrEmpty(name) ? null : name, ct);
        var (token, expires) = await signIn.StartSessionAsync(user.Id, ct);
        signIn.SetCookie(ctx, token, expires);
        await audit.RecordAsync(new AuditEntry(AuditActor.User(user.Id), PeopleAudit.SignedIn, "user", user.Id, null, new JsonObject { ["method"] = "invitation" }));
        var updated = await people.FindUserAsync(user.Id, ct) ?? user;
        return TypedResults.Ok(new SignedIn(token, expires, UserView.From(updated)));
    }

    private static async Task<IResult> MeAsync(HttpContext ctx, IPeopleStore people, IAccessStore workspaces, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        var user = caller.UserId is { } id && await people.FindUserAsync(id, ct) is { } found ? UserView.From(found) : UserView.Administrator;
        var memberships = new List<MembershipView>();
        WorkspaceRef? current = null;
        foreach (var (workspaceId, role) in caller.Memberships)
        {
            if (await workspaces.FindWorkspaceAsync(workspaceId, ct) is { } w)
            {
                memberships.Add(new MembershipView(new WorkspaceRef(w.Id, w.Name), role));
                if (w.Id == caller.WorkspaceId)
                {
                    current = new WorkspaceRef(w.Id, w.Name);
                }
            }
        }
        return TypedResults.Ok(new Me(user, memberships, current, SessionCsrf.TokenFor(caller)));
    }

    private static async Task<IResult> LogoutAsync(HttpContext ctx, IPeopleStore people, CancellationToken ct)
    {
        var caller = (await CallerGate.ResolveAsync(ctx))!;
        if (caller.SessionToken is { } session)
        {
            await people.DeleteSessionAsync(KeyMaterial.Hash(session), ct);
        }
        SignInService.ClearCookie(ctx);
        return TypedResults.NoContent();
    }

    private static IResult WrongCredentials() =>
        Results.Problem(statusCode: 401, title: "Unauthorized", detail: "The email or password is wrong.",
            extensions: new Dictionary<string, object?> { ["code"] = "invalid_credentials" });

    private static IResult TooMany(HttpContext ctx, TimeSpan wait, string detail)
    {
        ctx.Response.Headers.RetryAfter = Seconds(wait);
        return Results.Problem(statusCode: 429, title: "Too Many Requests", detail: detail, extensions: new Dictionary<string, object?> { ["code"] = "rate_limited" });
    }

    private static string Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public static class PeopleAudit
{
    public const string SignedIn = AuditActions.UserSignedIn;
    public const string SignInFailed = AuditActions.UserSignInFailed;
    public const string Created = AuditActions.UserCreated;
    public const string Invited = AuditActions.UserInvited;
    public const string Updated = AuditActions.UserUpdated;
    public const string Removed = AuditActions.UserRemoved;
    public const string TokenCreated = AuditActions.TokenCreated;
    public const string TokenRevoked = AuditActions.TokenRevoked;
}
