using Mulan.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Mulan.Knowledge;

namespace Mulan.Apps.Templates;

public static class AppTemplateEndpoints
{
    /// <summary>The template gallery: read-only and the same for everyone, so any key of any workspace may browse it.</summary>
    public static IEndpointRouteBuilder MapAppTemplates(this IEndpointRouteBuilder app)
    {
        var templates = Caller.RequireCaller(app.MapGroup("/api/app-templates"));
        templates.MapGet("/", List).WithName("ListAppTemplates").RequireAccess(WorkspaceRole.Viewer).WithSummary("The built-in app templates, each in zh-Hans, zh-Hant and en.");
        templates.MapGet("/{name}", Get).WithName("GetAppTemplate").RequireAccess(WorkspaceRole.Viewer)
            .WithSummary("A template's app definition (?language=zh-Hans|zh-Hant|en, default en), ready to adapt and POST to /api/apps.");
        return app;
    }

    public sealed record TemplateList(IReadOnlyList<AppTemplate> Templates);

    private static Ok<TemplateList> List() => TypedResults.Ok(new TemplateList(AppTemplates.All));

    private static Results<Ok<System.Text.Json.Nodes.JsonObject>, ValidationProblem, ProblemHttpResult> Get(string name, string? language)
    {
        language ??= "en";
        if (!AppTemplates.Languages.Contains(language, StringComparer.Ordinal))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["language"] = [$"must be one of {string.Join(", ", AppTemplates.Languages)}"] });
        }
        return AppTemplates.Get(name, language) is { } definition
            ? TypedResults.Ok(definition)
            : TypedResults.Problem(statusCode: 404, detail: $"There is no app template '{name}'; GET /api/app-templates lists them.");
    }
}
