using System.Reflection;
using Microsoft.Extensions.Options;
using Mulan.Apps;

namespace Mulan.ChatPage;

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
        routes.MapGet("/assets/chat/{**path}", AssetAsync).ExcludeFromDescription();
        return routes;
    }

    /// <summary>The page's policy: nothing but this server's own scripts, styles and API; framed only by the widget's hosts.</summary>
    public static string ContentSecurityPolicy(bool embed, IEnumerable<string> widgetOrigins)
    {
        var origins = embed ? string.Join(' ', widgetOrigins) : "";
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
            + $"base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors {(origins.Length == 0 ? "'none'" : origins)}";
    }

    private static void SecurityHeaders(HttpContext ctx, bool embed, IList<string> widgetOrigins)
    {
        var h = ctx.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy(embed, widgetOrigins);
        if (!embed || widgetOrigins.Count == 0)
        {
            h.XFrameOptions = "DENY";
        }
        h.XContentTypeOptions = "nosniff";
        h["Referrer-Policy"] = "no-referrer";
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

    private static async Task WidgetAsync(HttpContext ctx)
    {
        ctx.Response.Headers.XContentTypeOptions = "nosniff";
        ctx.Response.Headers.CacheControl = "public, max-age=300";
        await WriteAssetAsync(ctx, "widget.js");
    }

    private static async Task AssetAsync(string path, HttpContext ctx)
    {
        ctx.Response.Headers.XContentTypeOptions = "nosniff";
        ctx.Response.Headers.CacheControl = "no-cache";
        await WriteAssetAsync(ctx, path);
    }

    private static async Task WriteAssetAsync(HttpContext ctx, string path)
    {
        var name = "Mulan.Console.wwwroot.chat." + path;
        var type = Path.GetExtension(path) switch
        {
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".json" => "application/json; charset=utf-8",
            _ => null,
        };
        await using var stream = path.Contains("..", StringComparison.Ordinal) || type is null ? null : Assembly.GetExecutingAssembly().GetManifestResourceStream(name);
        if (stream is null)
        {
            ctx.Response.StatusCode = 404;
            return;
        }
        ctx.Response.ContentType = type;
        await stream.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
    }

    private const string Shell = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>Mulan</title>
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
