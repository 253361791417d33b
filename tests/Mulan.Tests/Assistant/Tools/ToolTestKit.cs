using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mulan.Assistant.Tools;
using Mulan.Tests.Support;

namespace Mulan.Tests.Assistant.Tools;

/// <summary>What the tool-source tests share: adding a source through the API and calling its tools as a run would.</summary>
internal static class ToolTestKit
{
    /// <summary>A Kestrel on 127.0.0.1, port 0 (a private address: reaching it needs an allowance), started; and its origin.</summary>
    public static async Task<(WebApplication App, Uri Origin)> StartLoopbackAsync(Action<IServiceCollection> services, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        services(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()));
    }

    public static async Task<(HttpResponseMessage Response, JsonObject? Body)> PostAsync(MulanHost host, object body)
    {
        var response = await host.Admin.PostAsJsonAsync("api/tools", body);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject);
    }

    public static async Task<JsonObject> CreateAsync(MulanHost host, object body)
    {
        var (response, json) = await PostAsync(host, body);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"{(int)response.StatusCode}: {json?.ToJsonString()}");
        return json!;
    }

    public static async Task<ToolSet> ResolveAsync(MulanHost host, JsonObject source, params string[] names) =>
        await host.App.Services.GetRequiredService<ToolCatalog>().ResolveAsync(source["workspace"]!.GetValue<string>(),
            names.Length == 0 ? [source["name"]!.GetValue<string>()] : names, CancellationToken.None);

    public static async Task<ToolResult> CallAsync(MulanHost host, JsonObject source, string tool, JsonObject? arguments = null)
    {
        await using var set = await ResolveAsync(host, source);
        return await set.CallAsync(tool, arguments ?? [], CancellationToken.None);
    }

    public static Dictionary<string, bool> ToolsOf(JsonObject source) =>
        source["tools"]!.AsArray().ToDictionary(t => t!["name"]!.GetValue<string>(), t => t!["sideEffect"]!.GetValue<bool>());

    public static async Task<int> CountAsync(MulanHost host) =>
        (await host.Admin.GetFromJsonAsync<JsonObject>("api/tools"))!["tools"]!.AsArray().Count;
}
