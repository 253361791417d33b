namespace Mulan.Console;

/// <summary>
/// The headers every console response carries. The policy allows only the server's own scripts, styles and API:
/// no inline script or style, no <c>eval</c>, no framing, no third-party origin. Together with the rule that the
/// console's JavaScript builds the DOM only with <c>textContent</c>/<c>createElement</c>, text from documents and
/// models cannot become markup, and even injected markup could not run a script.
/// </summary>
public static class ConsoleSecurity
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /// <summary>Sets the console's security headers on <paramref name="response"/>, before its body is written.</summary>
    public static void Apply(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
    }
}
