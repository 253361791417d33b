using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Outbound;
using Mulan.Tests.Support;
using static Mulan.Tests.Assistant.Tools.ToolTestKit;

namespace Mulan.Tests.Assistant.Tools;

/// <summary>OpenAPI tool sources end to end: a real Mulan and a real orders service on loopback (a private address, so
/// every source that calls it must allow its host), with the guarded client's own policy (no test override).</summary>
public sealed class OpenApiToolTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private OrdersService _orders = null!;

    public async Task InitializeAsync()
    {
        _host = await MulanHost.StartAsync();
        _orders = await OrdersService.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _orders.DisposeAsync();
    }

    private object Orders(string name = "orders", object? extra = null)
    {
        var body = new JsonObject
        {
            ["name"] = name,
            ["openapi"] = JsonNode.Parse(_orders.Json),
            ["allowHosts"] = new JsonArray(_orders.Host),
            ["credentials"] = new JsonObject { ["header"] = "X-Api-Key", ["value"] = OrdersService.Secret },
            ["timeoutSeconds"] = 2,
        };
        foreach (var (k, v) in extra is null ? [] : System.Text.Json.JsonSerializer.SerializeToNode(extra)!.AsObject())
        {
            body[k] = v?.DeepClone();
        }
        return body;
    }

    [Fact]
    public async Task Import_answers_201_with_every_operation_as_a_tool_and_its_side_effect()
    {
        var source = await CreateAsync(_host, Orders());
        var tools = ToolsOf(source);
        Assert.False(tools["getOrder"]);
        Assert.True(tools["createTicket"]);
        Assert.True(tools["delete_customer"]);
        Assert.False(tools["get_report"]);
        Assert.Equal(9, tools.Count);
        Assert.StartsWith("tool", source["id"]!.GetValue<string>(), StringComparison.Ordinal);

        // The schema: path and query parameters, the auth header left out, the $ref'd body resolved under "body".
        var shown = (await _host.Admin.GetFromJsonAsync<JsonObject>($"api/tools/{source["id"]}"))!;
        var get = shown["tools"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "getOrder")!;
        Assert.Equal("Look an order up", get["description"]!.GetValue<string>());
        var properties = get["parameters"]!["properties"]!.AsObject();
        Assert.Equal(["id", "expand"], properties.Select(p => p.Key));
        Assert.Equal("boolean", properties["expand"]!["type"]!.GetValue<string>());
        Assert.Equal("""["id"]""", get["parameters"]!["required"]!.ToJsonString());
        var ticket = shown["tools"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "createTicket")!["parameters"]!;
        Assert.Equal("""["subject"]""", ticket["properties"]!["body"]!["required"]!.ToJsonString());
        Assert.Equal("""["low","high"]""", ticket["properties"]!["body"]!["properties"]!["priority"]!["enum"]!.ToJsonString());

        var result = await CallAsync(_host, source, "getOrder", new JsonObject { ["id"] = "A 1/2", ["expand"] = true });
        Assert.True(result.Ok, result.Error);
        Assert.StartsWith("HTTP 200 OK\n", result.Output, StringComparison.Ordinal);
        // The slash is escaped, so the argument stays one path segment (ASP.NET Core leaves %2F undecoded in route values).
        Assert.Contains("\"id\":\"A 1%2F2\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"expand\":\"true\"", result.Output, StringComparison.Ordinal);
        var created = await CallAsync(_host, source, "createTicket", new JsonObject { ["body"] = new JsonObject { ["subject"] = "refund" } });
        Assert.True(created.Ok, created.Error);
        Assert.Contains("\"subject\":\"refund\"", created.Output, StringComparison.Ordinal);
        var deleted = await CallAsync(_host, source, "delete_customer", new JsonObject { ["id"] = 7 });
        Assert.True(deleted.Ok, deleted.Error);
        Assert.Equal("HTTP 204 No Content", deleted.Output);
        var pdf = await CallAsync(_host, source, "get_report");
        Assert.True(pdf.Ok);
        Assert.Contains("application/pdf body of 8 bytes, not shown", pdf.Output, StringComparison.Ordinal);

        var audit = await _host.Admin.GetStringAsync("api/audit?action=tool.created");
        Assert.Contains(source["id"]!.GetValue<string>(), audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_yaml_document_imports_like_json()
    {
        var source = await CreateAsync(_host, new { name = "orders-yaml", openapi = _orders.Yaml, allowHosts = new[] { _orders.Host },
            credentials = new { header = "X-Api-Key", value = OrdersService.Secret } });
        Assert.Equal(new Dictionary<string, bool> { ["getOrder"] = false, ["createTicket"] = true }, ToolsOf(source));
        var result = await CallAsync(_host, source, "getOrder", new JsonObject { ["id"] = "B-2" });
        Assert.True(result.Ok, result.Error);
        Assert.Contains("B-2", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_and_side_effects_can_be_chosen()
    {
        var source = await CreateAsync(_host, Orders(extra: new { operations = new[] { "getOrder", "createTicket" }, sideEffects = new { createTicket = false } }));
        Assert.Equal(new Dictionary<string, bool> { ["getOrder"] = false, ["createTicket"] = false }, ToolsOf(source));

        var (unknown, problem) = await PostAsync(_host, Orders("other", new { operations = new[] { "getOrder", "launchRocket" } }));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("'launchRocket'", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var (badOverride, overrideProblem) = await PostAsync(_host, Orders("other", new { sideEffects = new { nope = true } }));
        Assert.Equal(HttpStatusCode.BadRequest, badOverride.StatusCode);
        Assert.NotNull(overrideProblem!["errors"]!["$.sideEffects.nope"]);
        Assert.Equal(1, await CountAsync(_host));
    }

    public static TheoryData<string, string> InvalidDocuments => new()
    {
        { "this is: [not, valid", "" },
        { """{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{}}""", "OpenAPI 2" },
        { """{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"http://127.0.0.1:1"}],"paths":{}}""", "no operations" },
        { """{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"ok"}}}}}}""", "server URL" },
        { """{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"/relative"}],"paths":{"/a":{"get":{"responses":{"200":{"description":"ok"}}}}}}""", "server URL" },
        { """{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"file:///etc"}],"paths":{"/a":{"get":{"responses":{"200":{"description":"ok"}}}}}}""", "server URL" },
        { """{"hello":"world"}""", "" },
    };

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public async Task Invalid_documents_are_400_with_a_reason_and_store_nothing(string document, string reason)
    {
        var (response, problem) = await PostAsync(_host, new { name = "bad", openapi = document });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync(_host));
    }

    [Fact]
    public async Task Bad_fields_are_400_naming_their_json_path()
    {
        foreach (var (body, path) in new (object, string)[]
        {
            (new { openapi = _orders.Json }, "$.name"),
            (new { name = "a b", openapi = _orders.Json }, "$.name"),
            (new { name = "x" }, "$"),
            (new { name = "x", openapi = _orders.Json, mcp = new { url = "http://example.com/mcp" } }, "$"),
            (new { name = "x", openapi = _orders.Json, allowHosts = new[] { "http://10.0.0.1/" } }, "$.allowHosts[0]"),
            (new { name = "x", openapi = _orders.Json, credentials = new { header = "X-Api-Key" } }, "$.credentials.value"),
            (new { name = "x", openapi = _orders.Json, timeoutSeconds = 0 }, "$.timeoutSeconds"),
            (new { name = "x", openapi = _orders.Json, colour = "red" }, "$.colour"),
            (new { name = "x", mcp = new { url = "ftp://example.com" } }, "$.mcp.url"),
            (new { name = "x", mcp = new { command = "srv" }, credentials = new { header = "X-Api-Key", value = "v" } }, "$.credentials"),
        })
        {
            var (response, problem) = await PostAsync(_host, body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True(problem!["errors"]?[path] is not null, $"{path}: {problem.ToJsonString()}");
        }
        Assert.Equal(0, await CountAsync(_host));
    }

    [Fact]
    public async Task A_body_over_2_MiB_is_413_and_stores_nothing()
    {
        var (response, problem) = await PostAsync(_host, new { name = "big", openapi = new string(' ', 3 * 1024 * 1024) + _orders.Json });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(413, problem!["status"]!.GetValue<int>());
        Assert.Equal(0, await CountAsync(_host));
    }

    [Fact]
    public async Task A_private_host_is_refused_without_allow_hosts_and_reached_with_them()
    {
        var closed = await CreateAsync(_host, new { name = "closed", openapi = _orders.Json, credentials = new { header = "X-Api-Key", value = OrdersService.Secret } });
        var refused = await CallAsync(_host, closed, "getOrder", new JsonObject { ["id"] = "1" });
        Assert.False(refused.Ok);
        Assert.StartsWith("refused: ", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, _orders.Requests);

        var open = await CreateAsync(_host, Orders("open"));
        Assert.True((await CallAsync(_host, open, "getOrder", new JsonObject { ["id"] = "1" })).Ok);
        Assert.Equal(1, _orders.Requests);
    }

    [Fact]
    public async Task An_allowance_never_lends_its_connections_to_another_source_or_to_url_fetches()
    {
        var open = await CreateAsync(_host, Orders("open"));
        var closed = await CreateAsync(_host, new { name = "closed", openapi = _orders.Json, credentials = new { header = "X-Api-Key", value = OrdersService.Secret } });
        await using var both = await ResolveAsync(_host, open, "open", "closed");
        // Same tool names in both: each is offered under its source's prefix.
        Assert.Contains(both.Specs, s => s.Name == "open__getOrder" && s.Source == "open");
        Assert.Contains(both.Specs, s => s.Name == "closed__getOrder" && s.Source == "closed");
        for (var i = 0; i < 3; i++)
        {
            // A live keep-alive connection to the host exists after each allowed call; the refused calls must not use it.
            Assert.True((await both.CallAsync("open__getOrder", new JsonObject { ["id"] = "1" }, default)).Ok);
            var refused = await both.CallAsync("closed__getOrder", new JsonObject { ["id"] = "1" }, default);
            Assert.False(refused.Ok);
            Assert.StartsWith("refused: ", refused.Error, StringComparison.Ordinal);
            await Assert.ThrowsAsync<BlockedUrlException>(() =>
                _host.App.Services.GetRequiredService<GuardedHttpClient>().GetAsync(new Uri(_orders.BaseUrl, "orders/1"), 1000, default));
        }
        Assert.Equal(3, _orders.Requests);
    }

    [Fact]
    public async Task The_credential_is_injected_never_shown_never_stored_in_clear_and_redacted_when_echoed()
    {
        var source = await CreateAsync(_host, Orders());
        var id = source["id"]!.GetValue<string>();
        var echoed = await CallAsync(_host, source, "echoHeaders");
        Assert.True(echoed.Ok, echoed.Error);
        Assert.Contains("\"X-Api-Key\":\"[redacted]\"", echoed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(OrdersService.Secret, echoed.Output, StringComparison.Ordinal);

        var spec = (await ResolveAsync(_host, source)).Specs.Single(s => s.Name == "getOrder");
        Assert.DoesNotContain("X-Api-Key", spec.Parameters.ToJsonString(), StringComparison.OrdinalIgnoreCase);

        var everything = new StringBuilder()
            .Append(await _host.Admin.GetStringAsync($"api/tools/{id}"))
            .Append(await _host.Admin.GetStringAsync("api/tools"))
            .Append(await _host.Admin.GetStringAsync("api/audit?pageSize=1000"))
            .Append(_host.Logs.Text);
        Assert.Contains("X-Api-Key", everything.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(OrdersService.Secret, everything.ToString(), StringComparison.Ordinal);

        // The database and its write-ahead log, as bytes: the value is only there encrypted.
        foreach (var file in Directory.GetFiles(_host.DataDirectory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            Assert.True(buffer.ToArray().AsSpan().IndexOf(Encoding.UTF8.GetBytes(OrdersService.Secret)) < 0, $"{file} holds the credential in clear");
        }

        // A document that tries to take the credential's header as an argument does not get it.
        var (bad, problem) = await PostAsync(_host, Orders("bad", new { credentials = new { header = "X-Api-Key", value = "line\r\nbreak" + OrdersService.Secret } }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.DoesNotContain(OrdersService.Secret, problem!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeouts_huge_malformed_and_5xx_answers_are_failed_results_fast()
    {
        var source = await CreateAsync(_host, Orders(extra: new { timeoutSeconds = 1 }));
        await using var set = await ResolveAsync(_host, source);
        var clock = Stopwatch.StartNew();
        var stall = await set.CallAsync("stall", [], default);
        Assert.False(stall.Ok);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the stall took {clock.Elapsed}");
        Assert.Contains("1 s", stall.Error, StringComparison.Ordinal);

        var huge = await set.CallAsync("huge", [], default);
        Assert.False(huge.Ok);
        Assert.Contains("larger than", huge.Error, StringComparison.Ordinal);

        var broken = await set.CallAsync("broken", [], default);
        Assert.False(broken.Ok);
        Assert.StartsWith("HTTP 500 Internal Server Error: database down", broken.Error, StringComparison.Ordinal);

        var malformed = await set.CallAsync("malformed", [], default);
        Assert.False(malformed.Ok);
        Assert.Contains("malformed JSON", malformed.Error, StringComparison.Ordinal);

        var unauthorized = await CallAsync(_host, await CreateAsync(_host, Orders("nokey", new { credentials = new { header = "X-Api-Key", value = "wrong" } })), "getOrder",
            new JsonObject { ["id"] = "1" });
        Assert.False(unauthorized.Ok);
        Assert.StartsWith("HTTP 401", unauthorized.Error, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"all of it took {clock.Elapsed}");
    }

    [Fact]
    public async Task An_unreachable_service_is_a_failed_result()
    {
        var source = await CreateAsync(_host, Orders(extra: new { baseUrl = "http://127.0.0.1:1" }));
        var result = await CallAsync(_host, source, "getOrder", new JsonObject { ["id"] = "1" });
        Assert.False(result.Ok);
        Assert.StartsWith("could not reach the service", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Arguments_are_checked_against_the_schema()
    {
        var source = await CreateAsync(_host, Orders());
        await using var set = await ResolveAsync(_host, source);
        Assert.Null(set.Validate("getOrder", new JsonObject { ["id"] = "1", ["expand"] = false }));
        Assert.Contains("'id' is required", set.Validate("getOrder", []), StringComparison.Ordinal);
        Assert.Contains("'expand' must be a boolean", set.Validate("getOrder", new JsonObject { ["id"] = "1", ["expand"] = "yes" }), StringComparison.Ordinal);
        Assert.Contains("'colour' is not a parameter", set.Validate("getOrder", new JsonObject { ["id"] = "1", ["colour"] = "red" }), StringComparison.Ordinal);
        Assert.Contains("'id' must be an integer", set.Validate("delete_customer", new JsonObject { ["id"] = 1.5 }), StringComparison.Ordinal);
        Assert.Equal("no tool 'launch'", set.Validate("launch", []));
        var refused = await set.CallAsync("getOrder", [], default);
        Assert.False(refused.Ok);
        Assert.Equal(0, _orders.Requests);
    }

    [Fact]
    public async Task Deleting_a_source_an_app_names_is_409_listing_the_app()
    {
        var source = await CreateAsync(_host, Orders());
        var workspace = source["workspace"]!.GetValue<string>();
        var catalog = _host.App.Services.GetRequiredService<Mulan.Assistant.Tools.ToolCatalog>();
        Assert.Equal(["nope"], await catalog.MissingAsync(workspace, ["orders", "nope"], default));
        using var app = await _host.Admin.PostAsJsonAsync("api/apps", new { slug = "desk", name = "Desk", kind = "assistant", model = "chat", tools = new[] { "orders" } });
        Assert.True(app.IsSuccessStatusCode, await app.Content.ReadAsStringAsync());

        using var refused = await _host.Admin.DeleteAsync($"api/tools/{source["id"]}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("app desk", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("""["app desk"]""", problem["usedBy"]!.ToJsonString());
        Assert.Equal(1, await CountAsync(_host));

        var appId = (await app.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        (await _host.Admin.DeleteAsync($"api/apps/{appId}")).EnsureSuccessStatusCode();
        using var deleted = await _host.Admin.DeleteAsync("api/tools/orders");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(0, await CountAsync(_host));
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"api/tools/{source["id"]}")).StatusCode);
        Assert.Contains(source["id"]!.GetValue<string>(), await _host.Admin.GetStringAsync("api/audit?action=tool.deleted"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_source_with_the_same_name_is_409_and_the_api_needs_the_admin_key()
    {
        await CreateAsync(_host, Orders());
        var (again, _) = await PostAsync(_host, Orders());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/tools")).StatusCode);
        using var key = _host.Client(await _host.CreateKeyAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await key.PostAsJsonAsync("api/tools", Orders("mine"))).StatusCode);
        Assert.Equal(1, await CountAsync(_host));
    }
}
