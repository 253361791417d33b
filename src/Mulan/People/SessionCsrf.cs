using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Mulan.Access;

namespace Mulan.People;

/// <summary>
/// The CSRF token of a cookie session: a SHA-256 of the session secret under a fixed label, handed out by
/// <c>GET /api/auth/me</c> and checked on every cookie-authenticated unsafe request. Not ASP.NET Core's
/// <c>IAntiforgery</c>: that pairs a second cookie with a claims identity, and our sessions are rows keyed by a secret,
/// so a token derived from that secret is bound to the session by construction, needs no state, and dies with it.
/// Only a page that can read <c>/api/auth/me</c> (same origin) learns it; the token does not reveal the session secret.
/// </summary>
public static class SessionCsrf
{
    public const string HeaderName = "X-CSRF-Token";

    public static string? TokenFor(Caller caller) => caller.SessionToken is { } session ? Derive(session) : null;

    public static bool Matches(Caller caller, string presented) =>
        TokenFor(caller) is { } expected && presented.Length == expected.Length
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented));

    private static string Derive(string session)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("mulan-csrf\n" + session), hash);
        return Base64Url.EncodeToString(hash);
    }
}
