using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.People;

/// <summary>Helpers for the people tests: create workspaces and users through the API, sign in, and call with a cookie.</summary>
internal static class PeopleClient
{
    public const string Password = "correct horse battery";

    public static async Task<string> CreateWorkspaceAsync(MulanHost host, string name)
    {
        using var response = await host.Admin.PostAsJsonAsync("api/workspaces", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public static async Task<JsonObject> CreateUserAsync(MulanHost host, string email, string? workspace, string? role, string? password = Password,
        bool instanceAdmin = false, HttpClient? by = null)
    {
        using var response = await (by ?? host.Admin).PostAsJsonAsync("api/users", new { email, password, workspace, role, instanceAdmin });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public static async Task<HttpResponseMessage> LoginAsync(MulanHost host, object body)
    {
        using var http = Anonymous(host);
        return await http.PostAsJsonAsync("api/auth/login", body);
    }

    /// <summary>Signs in and returns the session token.</summary>
    public static async Task<string> TokenAsync(MulanHost host, string email, string password = Password)
    {
        using var response = await LoginAsync(host, new { email, password });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!["token"]!.GetValue<string>();
    }

    /// <summary>A client that sends no cookies on its own (so tests see and choose every cookie).</summary>
    public static HttpClient Anonymous(MulanHost host) =>
        new(new HttpClientHandler { UseCookies = false }) { BaseAddress = host.BaseUrl };

    public static HttpClient WithCookie(MulanHost host, string session, string? csrf = null)
    {
        var http = Anonymous(host);
        http.DefaultRequestHeaders.Add("Cookie", "mulan_session=" + session);
        if (csrf is not null)
        {
            http.DefaultRequestHeaders.Add("X-CSRF-Token", csrf);
        }
        return http;
    }

    public static HttpClient WithBearer(MulanHost host, string token)
    {
        var http = Anonymous(host);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
