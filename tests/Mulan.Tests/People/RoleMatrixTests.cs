using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Access;
using Mulan.Tests.Support;
using static Mulan.Tests.People.PeopleClient;

namespace Mulan.Tests.People;

/// <summary>
/// Every <c>/api</c> endpoint called by every kind of caller, against a table written from docs/people.md (not read from
/// the endpoints' metadata). "Allowed" means neither 401 nor 403: the role check runs before any handler, so a 400 for
/// the empty body or a 404 for an id that does not exist still proves the caller got past it. The knowledge base and the
/// workspace in the routes are real, so those routes reach their handlers for real.
/// </summary>
public sealed class RoleMatrixTests : IAsyncLifetime
{
    private const string Anonymous = "anonymous", SignedIn = "signed-in", Instance = "instance";
    private const string Viewer = "viewer", Member = "member", Admin = "admin", Owner = "owner";

    /// <summary>The role matrix (docs/people.md): what each endpoint requires.</summary>
    private static readonly Dictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        // People
        ["POST /api/auth/login"] = Anonymous, ["POST /api/auth/accept"] = Anonymous,
        ["GET /api/auth/me"] = SignedIn, ["POST /api/auth/logout"] = SignedIn,
        ["POST /api/tokens/"] = SignedIn, ["GET /api/tokens/"] = SignedIn, ["DELETE /api/tokens/{id}"] = SignedIn,
        ["POST /api/users/"] = Admin, ["GET /api/users/"] = Admin, ["PATCH /api/users/{id}"] = Admin, ["DELETE /api/users/{id}"] = Admin,
        // The instance: workspaces, keys, providers, models, routing, money, global usage and audit, tools
        ["POST /api/workspaces"] = Instance, ["GET /api/workspaces"] = Instance, ["PATCH /api/workspaces/{id}"] = Instance,
        ["DELETE /api/workspaces/{id}"] = Instance, ["PUT /api/workspaces/{workspace}/pii"] = Instance, ["PUT /api/workspaces/{workspace}/limits"] = Instance,
        ["POST /api/keys"] = Instance, ["GET /api/keys"] = Instance, ["DELETE /api/keys/{id}"] = Instance, ["PATCH /api/keys/{id}"] = Instance,
        ["POST /api/keys/{id}/rotate"] = Instance,
        ["POST /api/providers"] = Instance, ["GET /api/providers"] = Instance, ["DELETE /api/providers/{name}"] = Instance,
        ["POST /api/models"] = Instance, ["GET /api/models"] = Viewer, ["DELETE /api/models/{name}"] = Instance, ["POST /api/models/{name}/test"] = Instance,
        ["POST /api/models/{name}/prices"] = Instance,
        ["GET /api/deployments"] = Instance, ["GET /api/exchange-rates"] = Instance, ["POST /api/exchange-rates"] = Instance,
        ["POST /api/reconciliation"] = Instance, ["GET /api/usage"] = Instance, ["GET /api/audit"] = Instance,
        ["POST /api/tools/"] = Instance, ["GET /api/tools/"] = Instance, ["GET /api/tools/{id}"] = Instance, ["DELETE /api/tools/{id}"] = Instance,
        // One workspace's own reads
        ["GET /api/workspaces/{workspace}/usage"] = Viewer, ["GET /api/workspaces/{workspace}/audit"] = Viewer, ["GET /api/workspaces/{workspace}/limits"] = Viewer,
        ["GET /api/workspaces/{workspace}/export"] = Owner,
        // Knowledge
        ["POST /api/knowledge-bases/"] = Admin, ["GET /api/knowledge-bases/"] = Viewer, ["GET /api/knowledge-bases/{id}"] = Viewer,
        ["PATCH /api/knowledge-bases/{id}"] = Admin, ["DELETE /api/knowledge-bases/{id}"] = Admin,
        ["POST /api/knowledge-bases/{id}/documents"] = Member, ["GET /api/knowledge-bases/{id}/documents"] = Viewer,
        ["GET /api/knowledge-bases/{id}/documents/{docId}"] = Viewer, ["PATCH /api/knowledge-bases/{id}/documents/{docId}"] = Admin,
        ["DELETE /api/knowledge-bases/{id}/documents/{docId}"] = Admin,
        ["POST /api/knowledge-bases/{id}/search"] = Member, ["POST /api/knowledge-bases/{id}/ask"] = Member,
        // Apps, feedback, templates, packages
        ["POST /api/apps/"] = Admin, ["GET /api/apps/"] = Viewer, ["GET /api/apps/{id}"] = Viewer, ["PUT /api/apps/{id}"] = Admin, ["DELETE /api/apps/{id}"] = Admin,
        ["GET /api/apps/{id}/versions"] = Viewer, ["GET /api/apps/{id}/versions/{version:int}"] = Viewer, ["GET /api/apps/{id}/diff"] = Viewer,
        ["POST /api/apps/{id}/publish"] = Admin, ["POST /api/apps/{id}/rollback"] = Admin,
        ["GET /api/apps/{id}/conversations"] = Viewer, ["GET /api/apps/{id}/conversations/{cid}"] = Viewer, ["DELETE /api/apps/{id}/conversations/{cid}"] = Admin,
        ["POST /api/feedback/"] = Member, ["GET /api/feedback/"] = Viewer,
        ["GET /api/app-templates/"] = Viewer, ["GET /api/app-templates/{name}"] = Viewer,
        ["GET /api/apps/{id}/export"] = Admin, ["POST /api/apps/import"] = Admin,
        // The chat page (share links are let through to the chat routes, which check them: Console/Chat/ChatApiTests)
        ["GET /api/chat/{slug}/"] = Member, ["POST /api/chat/{slug}/messages"] = Member, ["GET /api/chat/{slug}/conversations"] = Member,
        ["GET /api/chat/{slug}/conversations/{id}"] = Member, ["POST /api/chat/{slug}/feedback"] = Member, ["GET /api/chat/{slug}/passages/{id}"] = Member,
        ["POST /api/apps/{id}/shares/"] = Admin, ["GET /api/apps/{id}/shares/"] = Admin, ["DELETE /api/apps/{id}/shares/{shareId}"] = Admin,
        // Compliance
        ["POST /api/compliance/check"] = Member, ["GET /api/compliance/rules"] = Viewer, ["PUT /api/compliance/rules"] = Admin, ["GET /api/compliance/channels"] = Viewer,
        // Assistant runs
        ["POST /api/apps/{id}/runs"] = Member, ["GET /api/apps/{id}/runs"] = Viewer, ["GET /api/runs/"] = Viewer, ["GET /api/runs/{id}"] = Viewer,
        ["GET /api/runs/{id}/events"] = Viewer, ["POST /api/runs/{id}/approve"] = Admin, ["POST /api/runs/{id}/reject"] = Admin, ["POST /api/runs/{id}/cancel"] = Admin,
        ["GET /api/schedules/"] = Viewer,
        // Evaluations
        ["POST /api/evaluations/sets"] = Admin, ["GET /api/evaluations/sets"] = Viewer, ["GET /api/evaluations/sets/{id}"] = Viewer,
        ["PUT /api/evaluations/sets/{id}"] = Admin, ["POST /api/evaluations/sets/{id}/items"] = Admin, ["POST /api/evaluations/sets/{id}/from-feedback"] = Admin,
        ["DELETE /api/evaluations/sets/{id}"] = Admin, ["POST /api/evaluations/runs"] = Member, ["GET /api/evaluations/runs"] = Viewer,
        ["GET /api/evaluations/runs/{id}"] = Viewer, ["POST /api/evaluations/runs/{id}/cancel"] = Admin,
        ["GET /api/evaluations/compare"] = Viewer, ["GET /api/evaluations/bakeoff"] = Viewer,
        // Pilots
        ["POST /api/pilots/"] = Admin, ["GET /api/pilots/"] = Viewer, ["GET /api/pilots/{id}"] = Viewer, ["PATCH /api/pilots/{id}"] = Admin,
        ["POST /api/pilots/{id}/scope"] = Admin, ["PUT /api/pilots/{id}/scope/{itemId}"] = Admin, ["DELETE /api/pilots/{id}/scope/{itemId}"] = Admin,
        ["POST /api/pilots/{id}/freeze"] = Admin, ["POST /api/pilots/{id}/changes"] = Member, ["GET /api/pilots/{id}/changes"] = Viewer,
        ["POST /api/pilots/{id}/changes/{cid}/approve"] = Admin, ["POST /api/pilots/{id}/changes/{cid}/reject"] = Admin,
        ["POST /api/pilots/{id}/effort"] = Member, ["GET /api/pilots/{id}/ledger"] = Viewer, ["GET /api/pilots/{id}/report"] = Viewer,
        ["POST /api/pilots/{id}/signoff"] = Admin, ["GET /api/pilots/{id}/signoff"] = Viewer,
        ["POST /api/pilots/{id}/bakeoffs"] = Admin, ["GET /api/pilots/{id}/bakeoffs"] = Viewer, ["DELETE /api/pilots/{id}/bakeoffs/{bakeoffId}"] = Admin,
        // Usage dashboard (merged from main): same access as /api/usage and /api/workspaces/{workspace}/usage.
        ["GET /api/usage/summary"] = Instance, ["GET /api/workspaces/{workspace}/usage/summary"] = Viewer,
    };

    /// <summary>Workspace-level reads on the administrator's route group, which virtual keys never reached (401, as
    /// before): keys list their models at <c>/v1/models</c>.</summary>
    private static readonly HashSet<string> NotForKeys = ["GET /api/models"];

    private static readonly string[] Roles = [Viewer, Member, Admin, Owner];

    private MulanHost _host = null!;
    private string _workspace = "";
    private string _kb = "";
    private readonly Dictionary<string, string> _bearers = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync(configure: b => b.Configuration["People:SignInAttemptsPerMinute"] = "10000");
        _workspace = await CreateWorkspaceAsync(_host, "matrix-a");
        await CreateWorkspaceAsync(_host, "matrix-b");
        foreach (var role in Roles)
        {
            await CreateUserAsync(_host, $"{role}@a.example", _workspace, role);
            _bearers[role] = await TokenAsync(_host, $"{role}@a.example");
        }
        await CreateUserAsync(_host, "root@example.com", null, null, instanceAdmin: true);
        _bearers["instance-admin-user"] = await TokenAsync(_host, "root@example.com");
        _bearers["admin-key"] = MulanHost.AdminKey;
        _bearers["virtual-key"] = await _host.CreateKeyAsync(new { name = "matrix", workspace = "matrix-a" });
        using var kb = await _host.Admin.PostAsJsonAsync("api/knowledge-bases", new { name = "matrix", workspace = "matrix-a" });
        Assert.Equal(HttpStatusCode.Created, kb.StatusCode);
        _kb = (await kb.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private IReadOnlyList<(string Method, string Pattern)> ApiEndpoints() =>
        [.. _host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (m, e.RoutePattern.RawText!)))
            .Distinct().OrderBy(e => e.Item2, StringComparer.Ordinal).ThenBy(e => e.m, StringComparer.Ordinal)];

    [Fact]
    public void The_table_covers_exactly_the_endpoints_that_exist()
    {
        var mapped = ApiEndpoints().Select(e => $"{e.Method} {e.Pattern}").ToHashSet(StringComparer.Ordinal);
        var missing = mapped.Except(Expected.Keys).Order().ToList();
        var stale = Expected.Keys.Except(mapped).Order().ToList();
        Assert.True(missing.Count == 0, "Add to RoleMatrixTests.Expected (and docs/people.md): " + string.Join(", ", missing));
        Assert.True(stale.Count == 0, "No such endpoint any more: " + string.Join(", ", stale));
    }

    [Fact]
    public void Every_api_endpoint_states_its_access_explicitly()
    {
        var unstated = _host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api", StringComparison.Ordinal) && e.Metadata.GetMetadata<RequiredAccess>() is null)
            .Select(e => e.RoutePattern.RawText).ToList();
        Assert.True(unstated.Count == 0, "Without RequireAccess (they fail closed to instance administrators): " + string.Join(", ", unstated));
    }

    [Fact]
    public async Task Every_caller_gets_what_the_matrix_says_on_every_endpoint()
    {
        var failures = new List<string>();
        // Logout ends the caller's session: it goes last.
        var endpoints = ApiEndpoints().OrderBy(e => e.Pattern == "/api/auth/logout").ToList();
        foreach (var (method, pattern) in endpoints)
        {
            var required = Expected.GetValueOrDefault($"{method} {pattern}", Instance);
            var path = Path(pattern);
            await CheckAsync(failures, "no credentials", null, method, path, required == Anonymous ? "allowed" : "401");
            foreach (var role in Roles)
            {
                var allowed = required switch
                {
                    Anonymous or SignedIn => true,
                    Instance => false,
                    _ => Array.IndexOf(Roles, role) >= Array.IndexOf(Roles, required),
                };
                await CheckAsync(failures, role, _bearers[role], method, path, allowed ? "allowed" : "403");
            }
            await CheckAsync(failures, "instance-admin-user", _bearers["instance-admin-user"], method, path, "allowed");
            await CheckAsync(failures, "admin-key", _bearers["admin-key"], method, path, "allowed");
            // Virtual keys keep the behaviour they had before users: no instance routes (401), none of people's own
            // (403), and the workspace routes' own checks (which refuse some with 403 in the handler, as before).
            await CheckAsync(failures, "virtual-key", _bearers["virtual-key"], method, path,
                NotForKeys.Contains($"{method} {pattern}") ? "401" : required switch { Instance => "401", SignedIn => "403", Anonymous => "allowed", _ => "not 401" });
        }
        Assert.True(failures.Count == 0, $"{failures.Count} disagreements with the matrix:\n" + string.Join("\n", failures));
    }

    private async Task CheckAsync(List<string> failures, string who, string? bearer, string method, string path, string expected)
    {
        using var http = bearer is null ? PeopleClient.Anonymous(_host) : WithBearer(_host, bearer);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var status = (int)response.StatusCode;
        var ok = expected switch
        {
            "allowed" => status is not (401 or 403),
            "not 401" => status != 401,
            _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture) == expected,
        };
        if (!ok)
        {
            failures.Add($"{who,-20} {method,-6} {path}: {status}, expected {expected}");
        }
    }

    private string Path(string pattern) => pattern.TrimStart('/')
        .Replace("{workspace}", _workspace, StringComparison.Ordinal)
        .Replace("knowledge-bases/{id}", "knowledge-bases/" + _kb, StringComparison.Ordinal)
        .Replace("{version:int}", "1", StringComparison.Ordinal)
        .Replace("{id}", "nope", StringComparison.Ordinal).Replace("{docId}", "nope", StringComparison.Ordinal)
        .Replace("{cid}", "nope", StringComparison.Ordinal).Replace("{name}", "nope", StringComparison.Ordinal)
        .Replace("{itemId}", "nope", StringComparison.Ordinal).Replace("{slug}", "nope", StringComparison.Ordinal).Replace("{shareId}", "nope", StringComparison.Ordinal).Replace("{bakeoffId}", "nope", StringComparison.Ordinal);
}
