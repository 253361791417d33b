using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Mulan.Gateway.Wire;

namespace Mulan.Hosting.Problems;

/// <summary>
/// Every <c>/api</c> error is an RFC 7807 problem (<c>application/problem+json</c>) with a <c>detail</c> that says what
/// to change: unknown routes (404), wrong methods (405, with <c>Allow</c>), an <c>Accept</c> the endpoint cannot
/// answer (406), a body it cannot read (415, malformed JSON, 413), and values of the wrong type or range (400 with
/// <c>errors</c> naming each field). <c>/v1</c> keeps the OpenAI error object.
/// </summary>
public static class ApiProblems
{
    public static IServiceCollection AddApiProblems(this IServiceCollection services)
    {
        // A number sent as a string ("rpm": "5") is a type error like any other, not silently read as a number.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        // Binding failures throw, so that they reach the problem details below instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            if (c.Exception is BadHttpRequestException bad)
            {
                c.ProblemDetails.Status = bad.StatusCode;
                c.ProblemDetails.Title = ReasonPhrase(bad.StatusCode);
                if (bad.StatusCode == 400 && BindingFailure.Of(bad, BodyType(c.HttpContext)) is { } field)
                {
                    c.ProblemDetails.Title = "One or more validation errors occurred.";
                    c.ProblemDetails.Detail = $"{field.Name}: {field.Message}";
                    c.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [field.Name] = [field.Message] };
                }
                else
                {
                    c.ProblemDetails.Detail = bad.InnerException is System.Text.Json.JsonException json
                        ? $"The request body is not valid JSON: {json.Message}"
                        : bad.Message;
                }
            }
            else if (c.ProblemDetails is HttpValidationProblemDetails { Errors.Count: > 0 } validation && c.ProblemDetails.Detail is null)
            {
                // The errors in one sentence, for clients (and people) that only show `detail`.
                c.ProblemDetails.Detail = string.Join("; ", validation.Errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));
            }
            else if (c.ProblemDetails.Detail is null && c.HttpContext.Response.StatusCode is var status and >= 400)
            {
                c.ProblemDetails.Detail = DetailOf(c.HttpContext, status);
            }
        });
        return services;
    }

    // The exception handler clears the endpoint before it runs; the feature keeps the one that failed.
    private static Type? BodyType(HttpContext http) =>
        (http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint())?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;

    /// <summary>The error middleware, in order: exceptions, content negotiation on <c>/api</c>, empty error responses.</summary>
    public static WebApplication UseApiProblems(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages(WriteEmptyErrorAsync);
        app.Use(RefuseUnacceptableAsync);
        return app;
    }

    // An error status with no body yet (no endpoint, 405, a bare Results.StatusCode): say what happened, in the path's own shape.
    private static async Task WriteEmptyErrorAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        if (http.Request.Path.StartsWithSegments("/v1"))
        {
            await new OpenAIError(status, DetailOf(http, status), "invalid_request_error", null,
                status switch { 404 => "unknown_url", 405 => "method_not_allowed", _ => null }).WriteAsync(http.Response);
            return;
        }
        // A problem result, not IProblemDetailsService.WriteAsync: that one refuses to write when Accept excludes JSON (a 406).
        await TypedResults.Problem(statusCode: status, title: ReasonPhrase(status), detail: DetailOf(http, status)).ExecuteAsync(http);
    }

    private static string DetailOf(HttpContext http, int status)
    {
        var request = http.Request;
        return status switch
        {
            404 => $"No endpoint {request.Method} {request.Path}; see /openapi/v1.json or docs/api.md for the routes.",
            405 => $"{request.Path} does not accept {request.Method}" + (http.Response.Headers.Allow is { Count: > 0 } allow ? $"; it accepts {allow}." : "."),
            406 => $"{request.Path} answers application/json; the Accept header '{request.Headers.Accept}' allows none of it.",
            413 => "The request body is too large for this endpoint.",
            415 => $"{request.Path} reads application/json; got '{request.ContentType}'.",
            _ => ReasonPhrase(status),
        };
    }

    // 406 only where the endpoint says it answers JSON (typed results declare it): an SSE or file endpoint is left alone.
    private static Task RefuseUnacceptableAsync(HttpContext http, RequestDelegate next)
    {
        if (!http.Request.Path.StartsWithSegments("/api") || http.Request.Headers.Accept.Count == 0 || http.GetEndpoint() is not { } endpoint)
        {
            return next(http);
        }
        var produces = endpoint.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>()
            .Where(p => p.StatusCode is >= 200 and < 300).SelectMany(p => p.ContentTypes).ToList();
        if (produces.Count == 0 || !produces.All(IsJson) || !MediaTypeHeaderValue.TryParseList(http.Request.Headers.Accept, out var accepted)
            || accepted.Any(a => a.MatchesAllTypes || (a.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
                && (a.MatchesAllSubTypes || a.SubType.Equals("json", StringComparison.OrdinalIgnoreCase) || a.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))))
        {
            return next(http);
        }
        http.Response.StatusCode = 406;
        return WriteEmptyErrorAsync(new StatusCodeContext(http, new StatusCodePagesOptions(), next));
    }

    private static bool IsJson(string contentType) =>
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : $"HTTP {status}";
}
