using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Mulan.Hosting;

/// <summary>
/// The API reference: an OpenAPI 3.1 document of <c>/v1</c> and <c>/api</c> at <c>/openapi/v1.json</c>, generated from the
/// endpoints themselves (Microsoft.AspNetCore.OpenApi, so it cannot drift from the code), and an interactive page at
/// <c>/reference</c> (Scalar, whose script is embedded in its package: the page works offline). The page's
/// telemetry, CDN fonts and cloud features are off: a self-hosted server does not call out.
/// </summary>
public static class ApiReference
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string PagePath = "/reference";
    private const string DocumentCachePolicy = "openapi-document";

    public static IServiceCollection AddApiReference(this IServiceCollection services)
    {
        // The document is generated from the endpoints on each request (about 100 ms for this server's ~200 operations);
        // they never change while it runs, so it is generated once per host name (its servers[0].url) and kept.
        services.AddOutputCache(o => o.AddPolicy(DocumentCachePolicy, p => p.Expire(TimeSpan.FromDays(365)).SetVaryByHost(true)));
        services.AddOpenApi("v1", o =>
        {
            o.ShouldInclude = d => d.RelativePath is { } path && (path.StartsWith("v1/", StringComparison.Ordinal) || path.StartsWith("api/", StringComparison.Ordinal));
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Mulan API",
                    Version = MulanVersion.Current,
                    Description = "`/v1`: the OpenAI-compatible gateway, authenticated with a virtual key (`Authorization: Bearer mk-...`). " +
                        "`/api`: management, authenticated with the administrator key, a personal token or a console session.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A virtual key (mk-...) on /v1; the administrator key, a personal token or a session token on /api.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
                TagByArea(document);
                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>Groups operations by the area of their path (<c>/v1</c>, <c>/api/knowledge-bases</c>, …) rather than by the C# class that maps them.</summary>
    private static void TagByArea(OpenApiDocument document)
    {
        var tags = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, item) in document.Paths)
        {
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var area = segments[0] == "v1" ? "v1 (gateway)"
                : segments.Length > 2 && segments[1] == "workspaces" && segments[2] == "{workspace}" && segments.Length > 3 ? "workspaces/" + segments[3]
                : segments.Length > 1 ? segments[1] : segments[0];
            tags.Add(area);
            foreach (var operation in item.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
            {
                operation.Tags = new HashSet<OpenApiTagReference> { new(area, document) };
            }
        }
        document.Tags = new HashSet<OpenApiTag>(tags.Select(t => new OpenApiTag { Name = t }));
    }

    public static IEndpointRouteBuilder MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").CacheOutput(DocumentCachePolicy);
        app.MapScalarApiReference(PagePath, (o, ctx) =>
        {
            o.WithTitle("Mulan API").WithOpenApiRoutePattern("/openapi/{documentName}.json");
            o.Telemetry = false;
            o.DefaultFonts = false;
            o.Agent = new ScalarAgentOptions { Disabled = true };
            o.Mcp = new ScalarMcpOptions { Disabled = true };
            o.DynamicNonce = true;
        }).AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            // The page's inline configuration carries a fresh nonce; nothing else may run, and it may not be framed.
            var http = context.HttpContext;
            var nonce = http.Items[ScalarOptions.NonceHttpContextItemKey] as string;
            http.Response.Headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'" + (nonce is null ? "" : $" 'nonce-{nonce}'") +
                "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers["Referrer-Policy"] = "no-referrer";
            return result;
        });
        return app;
    }
}
