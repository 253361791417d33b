using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Hosting.Problems;

/// <summary>
/// Every /api error, whatever produced it (routing, content negotiation, body reading, model binding, a handler), is an
/// RFC 7807 problem with <c>application/problem+json</c>, the status in the body, and a <c>detail</c> that says what to
/// change. Each class is checked over several endpoints.
/// </summary>
public sealed class ApiErrorShapeTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _kb = "";

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _kb = (await (await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "shapes" })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private sealed record Case(string Method, string Path, string? ContentType = null, string? Body = null, string? Accept = null);

    private async Task<JsonObject> ProblemAsync(Case c, HttpStatusCode expected, string mustMention)
    {
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path.Replace("{KB}", _kb, StringComparison.Ordinal));
        if (c.Body is not null)
        {
            request.Content = new StringContent(c.Body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(c.ContentType ?? "application/json");
            // A client that may be refused for size asks first: the server answers 413 from the headers and the client
            // never writes into a connection the server has closed (otherwise a race: a broken pipe instead of the answer).
            request.Headers.ExpectContinue = c.Body.Length > 64 * 1024;
        }
        if (c.Accept is not null)
        {
            request.Headers.Accept.ParseAdd(c.Accept);
        }
        using var response = await _host.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var where = $"{c.Method} {c.Path} ({c.ContentType}, Accept {c.Accept}) → {(int)response.StatusCode} {response.Content.Headers.ContentType} {text}";
        Assert.True(response.StatusCode == expected, where);
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", where);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.True(problem["status"]?.GetValue<int>() == (int)expected, where);
        var detail = problem["detail"]?.GetValue<string>() ?? "";
        Assert.True(detail.Contains(mustMention, StringComparison.OrdinalIgnoreCase) && detail.Length > 15, where);
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()), where);
        return problem;
    }

    public static TheoryData<string, string> UnknownRoutes => new()
    {
        { "GET", "api/nope" }, { "POST", "api/keys/some/deeper" }, { "GET", "api/knowledge-bases/{KB}/nothing" }, { "DELETE", "api/" },
        { "GET", "api/workspaces/default/nothing" },
    };

    [Theory]
    [MemberData(nameof(UnknownRoutes))]
    public async Task Unknown_routes_are_404_problems_naming_the_path(string method, string path) =>
        await ProblemAsync(new Case(method, path), HttpStatusCode.NotFound, "No endpoint");

    public static TheoryData<string, string> WrongMethods => new()
    {
        { "PUT", "api/keys" }, { "PATCH", "api/usage" }, { "POST", "api/usage" }, { "DELETE", "api/workspaces" }, { "GET", "api/reconciliation" },
        { "PUT", "api/models" }, { "POST", "api/knowledge-bases/{KB}/documents/doc-1" },
    };

    [Theory]
    [MemberData(nameof(WrongMethods))]
    public async Task Wrong_methods_are_405_problems_listing_the_allowed_ones(string method, string path) =>
        await ProblemAsync(new Case(method, path), HttpStatusCode.MethodNotAllowed, "accepts");

    public static TheoryData<string, string, string> UnacceptableAccepts => new()
    {
        { "GET", "api/keys", "text/html" }, { "GET", "api/usage", "text/csv" }, { "GET", "api/workspaces", "application/xml" },
        { "GET", "api/audit", "image/png" }, { "GET", "api/knowledge-bases", "text/plain" },
    };

    [Theory]
    [MemberData(nameof(UnacceptableAccepts))]
    public async Task An_accept_header_without_json_is_406(string method, string path, string accept) =>
        await ProblemAsync(new Case(method, path, Accept: accept), HttpStatusCode.NotAcceptable, "Accept");

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/problem+json")]
    [InlineData("*/*")]
    [InlineData("application/*")]
    [InlineData("text/html, application/json;q=0.5")]
    public async Task Accept_headers_that_allow_json_are_served(string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/keys");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _host.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string, string> WrongMediaTypes => new()
    {
        { "POST", "api/keys", "text/plain" }, { "POST", "api/workspaces", "application/xml" }, { "PUT", "api/workspaces/default/limits", "text/plain" },
        { "POST", "api/models", "application/x-www-form-urlencoded" }, { "POST", "api/providers", "text/csv" },
        { "POST", "api/knowledge-bases/{KB}/search", "text/plain" }, { "POST", "api/knowledge-bases", "text/plain" },
    };

    [Theory]
    [MemberData(nameof(WrongMediaTypes))]
    public async Task A_body_that_is_not_json_is_415(string method, string path, string contentType) =>
        await ProblemAsync(new Case(method, path, contentType, "name=x"), HttpStatusCode.UnsupportedMediaType, "JSON");

    public static TheoryData<string, string, string> MalformedBodies => new()
    {
        { "POST", "api/keys", "{\"name\":" }, { "POST", "api/keys", "{" }, { "POST", "api/workspaces", "[1,2" },
        { "PUT", "api/workspaces/default/limits", "{\"rpm\":}" }, { "POST", "api/models", "{\"name\":\"m\",}x" },
        { "POST", "api/knowledge-bases/{KB}/search", "{\"query\":\"a\"" }, { "POST", "api/providers", "nul" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Malformed_json_is_a_400_problem_saying_where(string method, string path, string body) =>
        await ProblemAsync(new Case(method, path, "application/json", body), HttpStatusCode.BadRequest, "JSON");

    [Theory]
    [InlineData("POST", "api/keys")]
    [InlineData("POST", "api/workspaces")]
    [InlineData("POST", "api/models")]
    [InlineData("POST", "api/knowledge-bases/{KB}/search")]
    public async Task A_body_over_the_limit_is_a_413_problem(string method, string path) =>
        await ProblemAsync(new Case(method, path, "application/json", $$"""{"name":"{{new string('x', 2 * 1024 * 1024)}}"}"""),
            HttpStatusCode.RequestEntityTooLarge, "too large");

    [Fact]
    public async Task A_missing_admin_key_is_a_401_problem()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        using var response = await anonymous.GetAsync("api/keys");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_wrong_method_on_v1_is_an_openai_error()
    {
        using var http = _host.Client(await _host.CreateKeyAsync());
        using var response = await http.GetAsync("v1/chat/completions");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("method_not_allowed", error["code"]!.GetValue<string>());
        Assert.Contains("POST", error["message"]!.GetValue<string>());
    }
}
