namespace Mulan.Console;

/// <summary>The web console at <c>/</c>: one HTML shell, its ES modules and translations, all embedded.</summary>
public static class ConsoleExtensions
{
    /// <summary>The first path segment of each client-side route; the server answers the shell for all of them so
    /// that a reload or a shared link lands on the right page. Other unknown paths stay 404s.</summary>
    public static readonly IReadOnlyList<string> ClientRoutes =
    [
        "signin", "overview", "keys", "knowledge", "apps", "runs", "approvals", "pilots", "providers", "usage",
        "audit", "evaluations", "settings", "invite", "schedules",
    ];

    /// <summary>The shell: every route of the console is this page; the modules draw the rest.</summary>
    public const string ShellPath = "index.html";

    public static IServiceCollection AddConsole(this IServiceCollection services)
    {
        services.AddSingleton<ConsoleAssets>();
        return services;
    }

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/", methods, Shell).WithName("ConsoleShell").WithSummary("The web console.").ExcludeFromDescription();
        foreach (var route in ClientRoutes)
        {
            app.MapMethods($"/{route}", methods, Shell).ExcludeFromDescription();
            app.MapMethods($"/{route}/{{**rest}}", methods, Shell).ExcludeFromDescription();
        }
        app.MapMethods("/assets/{**path}", methods, Asset).WithName("ConsoleAsset")
            .WithSummary("The console's scripts, styles and translations.").ExcludeFromDescription();
        return app;
    }

    private static Task Shell(HttpContext http, ConsoleAssets assets)
    {
        ConsoleSecurity.Apply(http.Response);
        return assets.WriteAsync(http, ShellPath);
    }

    private static Task Asset(HttpContext http, ConsoleAssets assets, string path)
    {
        ConsoleSecurity.Apply(http.Response);
        return assets.WriteAsync(http, path);
    }
}
