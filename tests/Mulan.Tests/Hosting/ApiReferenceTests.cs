using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Mulan.Tests.Support;

namespace Mulan.Tests.Hosting;

/// <summary>The OpenAPI document is valid OpenAPI 3, lists every /v1 and /api route, and the reference page runs offline under a nonce CSP.</summary>
public sealed partial class ApiReferenceTests : IAsyncLifetime
{
    private MulanHost _host = null!;

    public async Task InitializeAsync() => _host = await MulanHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task The_document_is_valid_and_has_every_gateway_and_management_route()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        var response = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var read = OpenApiDocument.Parse(text, OpenApiConstants.Json, new OpenApiReaderSettings());
        Assert.NotNull(read.Document);
        Assert.Empty(read.Diagnostic!.Errors);
        var document = read.Document!;
        Assert.Equal("Mulan API", document.Info.Title);
        Assert.Equal(SecuritySchemeType.Http, document.Components!.SecuritySchemes!["bearer"].Type);

        // Every route the server maps under /v1 and /api, with its method, is an operation of the document.
        var routes = _host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && (raw.StartsWith("/v1/", StringComparison.Ordinal) || raw.StartsWith("/api/", StringComparison.Ordinal)))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Method: m, Path: Normalize(e.RoutePattern.RawText!))))
            .Distinct().ToList();
        Assert.True(routes.Count > 80, $"only {routes.Count} routes found");
        var operations = document.Paths.SelectMany(p => p.Value.Operations!.Keys.Select(m => (Method: m.Method, Path: Normalize(p.Key)))).ToHashSet();
        var missing = routes.Where(r => !operations.Contains(r)).ToList();
        Assert.True(missing.Count == 0, "not in the document: " + string.Join(", ", missing));
        // Operations are grouped by area, not by the class that maps them.
        Assert.DoesNotContain(document.Tags!, t => t.Name!.EndsWith("Endpoints", StringComparison.Ordinal));
        Assert.Contains(document.Paths["/v1/chat/completions"].Operations!.Values.Single().Tags!, t => t.Name == "v1 (gateway)");
        Assert.DoesNotContain(MulanHost.AdminKey, text, StringComparison.Ordinal);
    }

    /// <summary>Route constraints (<c>{version:int}</c>) are not part of an OpenAPI path.</summary>
    private static string Normalize(string path) => Constraint().Replace(path.TrimEnd('/'), "}");

    [GeneratedRegex(@":[a-z]+\}")]
    private static partial Regex Constraint();

    [Fact]
    public async Task The_reference_page_loads_its_script_from_the_server_under_a_nonce_policy()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        var page = await anonymous.GetAsync("/reference/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = Regex.Match(policy, "'nonce-([^']+)'").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(nonce), policy);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        // Every script carries the response's nonce and none comes from another origin.
        var scripts = Regex.Matches(html, "<script[^>]*>").Select(m => m.Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, s => Assert.Contains($"nonce=\"{nonce}\"", s, StringComparison.Ordinal));
        Assert.DoesNotContain("src=\"http", html, StringComparison.Ordinal);
        Assert.Contains("\"telemetry\":false", html, StringComparison.Ordinal);
        // A second load gets a fresh nonce.
        var again = (await anonymous.GetAsync("/reference/")).Headers.GetValues("Content-Security-Policy").Single();
        Assert.NotEqual(policy, again);

        var script = await anonymous.GetAsync("/reference/scalar.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000);
    }
}
