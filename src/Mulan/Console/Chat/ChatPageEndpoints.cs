using Microsoft.Extensions.Options;
using Mulan.Apps;

namespace Mulan.Console.Chat;

/// <summary>
/// <c>/chat/{slug}</c> (the page's HTML shell; its script does the rest through <c>/api/chat</c>) and <c>/widget.js</c>.
/// The shell holds nothing about the app: the name and everything else come from the API with the caller's credentials,
/// so an unauthenticated visitor learns only whether a published app of that slug exists.
/// </summary>
public static class ChatPageEndpoints
{
    public static IEndpointRouteBuilder MapChatPages(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/chat/{slug}", Page).WithName("ChatPage").WithSummary("An app's chat page (HTML).").ExcludeFromDescription();
        routes.MapGet("/widget.js", WidgetAsync).WithName("ChatWidget").WithSummary("The embeddable chat widget (one script tag).").ExcludeFromDescription();
        return routes;
    }

    /// <summary>The console's policy; for <c>?embed=1</c>, framing is allowed to this server itself (the console's
    /// playground) and to the widget's hosts (if any are configured).</summary>
    public static string ContentSecurityPolicy(bool embed, IEnumerable<string> widgetOrigins) => embed
        ? ConsoleSecurity.ContentSecurityPolicy.Replace("frame-ancestors 'none'", string.Join(' ', widgetOrigins.Prepend("frame-ancestors 'self'")), StringComparison.Ordinal)
        : ConsoleSecurity.ContentSecurityPolicy;

    private static void SecurityHeaders(HttpContext ctx, bool embed, IList<string> widgetOrigins)
    {
        ConsoleSecurity.Apply(ctx.Response);
        var h = ctx.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy(embed, widgetOrigins);
        if (embed)
        {
            // X-Frame-Options cannot name other origins: with widget hosts it is left out (frame-ancestors rules), without
            // them the console alone may frame the page.
            if (widgetOrigins.Count > 0)
            {
                h.Remove("X-Frame-Options");
            }
            else
            {
                h.XFrameOptions = "SAMEORIGIN";
            }
        }
        h.CacheControl = "no-store";
    }

    private static IResult Page(string slug, HttpContext ctx, AppDirectory directory, IOptions<ChatPageOptions> options)
    {
        var embed = ctx.Request.Query["embed"] == "1";
        SecurityHeaders(ctx, embed, options.Value.WidgetOrigins);
        // Published in some workspace, or 404 (which workspace is the API's business, once it knows the caller).
        if (!directory.All.Any(a => a.App.Slug == slug))
        {
            return Results.Content(NotFoundHtml, "text/html; charset=utf-8", statusCode: 404);
        }
        return Results.Content(embed ? Shell.Replace("<body>", "<body class=\"embed\">", StringComparison.Ordinal) : Shell, "text/html; charset=utf-8");
    }

    private static Task WidgetAsync(HttpContext ctx, ConsoleAssets assets)
    {
        // Loaded by other sites' pages: no policy of ours applies to it there, and it must not be framed-only.
        ctx.Response.Headers.XContentTypeOptions = "nosniff";
        return assets.WriteAsync(ctx, "chat/widget.js");
    }

    private const string Shell = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>Mulan</title>
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/assets/chat/chat.css">
        <script type="module" src="/assets/chat/chat.js"></script>
        </head>
        <body>
        <div id="chat-root"></div>
        <noscript>This page needs JavaScript.</noscript>
        </body>
        </html>
        """;

    private const string NotFoundHtml = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
        <body><main><h1>Not found</h1><p>There is no published app at this address.</p></main></body></html>
        """;
}
