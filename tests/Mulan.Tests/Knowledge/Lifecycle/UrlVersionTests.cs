using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Mulan.Outbound;
using Mulan.Tests.Support;
using static Mulan.Tests.Knowledge.Lifecycle.LifecycleTestKit;

namespace Mulan.Tests.Knowledge.Lifecycle;

public sealed class UrlVersionTests
{
    [Fact]
    public async Task Fetching_the_same_url_again_replaces_the_document_or_reports_it_unchanged()
    {
        var page = "Policy page: visitors sign in at the front desk.";
        var site = WebApplication.CreateSlimBuilder();
        site.WebHost.UseUrls("http://127.0.0.1:0");
        await using var web = site.Build();
        web.MapGet("/policy", () => Results.Text(page, "text/plain"));
        await web.StartAsync();
        var url = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/policy";
        // The guarded client refuses loopback; this test's own site is the one exception.
        await using var host = await MulanHost.StartAsync(configure: b =>
            b.Services.AddSingleton(_ => new GuardedHttpClient(TimeSpan.FromSeconds(10), IPAddress.IsLoopback)));
        var kb = await KnowledgeApiTests.CreateKbAsync(host, "web");

        async Task<(HttpStatusCode Status, JsonObject Document)> FetchAsync()
        {
            var response = await host.Admin.PostAsJsonAsync($"api/knowledge-bases/{kb}/documents", new { url });
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!["documents"]![0]!.AsObject());
        }

        var (status, first) = await FetchAsync();
        Assert.Equal(HttpStatusCode.Accepted, status);
        var firstId = first["id"]!.GetValue<string>();
        var ready = await KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kb, firstId);
        Assert.Equal(url, ready["origin"]!.GetValue<string>());

        var (sameStatus, same) = await FetchAsync();
        Assert.Equal(HttpStatusCode.Accepted, sameStatus);
        Assert.Equal("unchanged", same["status"]!.GetValue<string>());
        Assert.Equal(firstId, same["id"]!.GetValue<string>());

        page = "Policy page: visitors sign in at the reception on the ground floor.";
        var (_, second) = await FetchAsync();
        Assert.Equal(firstId, second["replaces"]!.GetValue<string>());
        await KnowledgeApiTests.WaitForDocumentAsync(host.Admin, kb, second["id"]!.GetValue<string>());
        Assert.Equal([second["id"]!.GetValue<string>()], (await DocumentsAsync(host.Admin, kb)).Select(d => d!["id"]!.GetValue<string>()));
        Assert.Contains("reception", (await SearchAsync(host.Admin, kb, "visitors sign in"))[0]!["text"]!.GetValue<string>());
    }
}
