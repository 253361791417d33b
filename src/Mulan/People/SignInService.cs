using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Mulan.Access;

namespace Mulan.People;

public abstract record SignInOutcome
{
    public sealed record Success(UserAccount User) : SignInOutcome;
    /// <summary>Unknown email, no password yet, disabled or wrong password: one answer for all, so none can be told apart.</summary>
    public sealed record Failed(UserAccount? User) : SignInOutcome;
    public sealed record Locked(UserAccount User, TimeSpan RetryAfter) : SignInOutcome;
}

/// <summary>
/// Password checks with lockout, and sessions. Every path hashes once (a dummy hash for unknown emails), so that the
/// time an answer takes does not tell whether the email exists.
/// </summary>
public sealed class SignInService(IPeopleStore people, TimeProvider time, IOptions<PeopleOptions> options)
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 1024;

    private static readonly PasswordHasher<UserAccount> Hasher = new();
    private static readonly UserAccount Nobody = new("nobody", "nobody@invalid", null, null, false, false, 0, null, DateTimeOffset.UnixEpoch);
    private static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword(Nobody, KeyMaterial.NewSecret("dummy-")));

    public static string HashPassword(UserAccount user, string password) => Hasher.HashPassword(user, password);

    /// <returns>why the password is refused, or null.</returns>
    public static string? CheckPassword(string? password, string email)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinPasswordLength)
        {
            return $"must be at least {MinPasswordLength} characters";
        }
        if (password.Length > MaxPasswordLength)
        {
            return $"must be at most {MaxPasswordLength} characters";
        }
        return string.Equals(password.Trim(), email.Trim(), StringComparison.OrdinalIgnoreCase) ? "must not be the email address" : null;
    }

    public async Task<SignInOutcome> CheckAsync(string email, string password, CancellationToken ct)
    {
        var user = await people.FindUserByEmailAsync(PeopleSecrets.NormalizeEmail(email), ct);
        var now = time.GetUtcNow();
        var verified = Hasher.VerifyHashedPassword(user ?? Nobody, user?.PasswordHash ?? DummyHash.Value, password);
        if (user is null || user.PasswordHash is null || user.Disabled)
        {
            return new SignInOutcome.Failed(user);
        }
        if (user.LockedUntil is { } until && until > now)
        {
            return new SignInOutcome.Locked(user, until - now);
        }
        if (verified == PasswordVerificationResult.Failed)
        {
            var o = options.Value;
            var failures = user.FailedCount + 1;
            if (failures >= o.LockoutThreshold)
            {
                var lockedUntil = now.AddMinutes(o.LockoutMinutes);
                await people.SetSignInStateAsync(user.Id, 0, lockedUntil, ct);
                return new SignInOutcome.Locked(user, lockedUntil - now);
            }
            await people.SetSignInStateAsync(user.Id, failures, null, ct);
            return new SignInOutcome.Failed(user);
        }
        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await people.SetPasswordAsync(user.Id, Hasher.HashPassword(user, password), null, ct);
        }
        else if (user.FailedCount != 0 || user.LockedUntil is not null)
        {
            await people.SetSignInStateAsync(user.Id, 0, null, ct);
        }
        return new SignInOutcome.Success(user);
    }

    /// <summary>A new session for the user (or <see cref="Session.AdminUserId"/>); the token exists only in the answer.</summary>
    public async Task<(string Token, DateTimeOffset ExpiresAt)> StartSessionAsync(string userId, CancellationToken ct)
    {
        var token = PeopleSecrets.NewSession();
        var now = time.GetUtcNow();
        var expires = now.AddMinutes(options.Value.SessionMinutes);
        await people.CreateSessionAsync(new Session(KeyMaterial.Hash(token), userId, now, expires), ct);
        return (token, expires);
    }

    /// <summary>The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure on HTTPS.</summary>
    public void SetCookie(HttpContext ctx, string token, DateTimeOffset expiresAt)
    {
        var o = options.Value;
        ctx.Response.Cookies.Append(CallerResolver.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = ctx.Request.IsHttps,
            Path = "/",
            // A sliding session may outlive its first expiry: the browser keeps the cookie to the longest it can last; the server decides.
            Expires = o.SlidingSessions ? time.GetUtcNow().AddDays(o.SessionMaxDays) : expiresAt,
        });
    }

    public static void ClearCookie(HttpContext ctx) =>
        ctx.Response.Cookies.Delete(CallerResolver.CookieName, new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = ctx.Request.IsHttps, Path = "/",
        });
}
