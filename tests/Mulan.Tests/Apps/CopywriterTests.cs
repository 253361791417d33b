using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Apps;

/// <summary>The copywriter app: N variants through the gateway, each checked (and by default rewritten) against the
/// advertising-law rules and the channel's limits before it is returned. The fake model writes back its brief, so the
/// copy to check is known exactly.</summary>
public sealed class CopywriterTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await AppTestKit.StartAsync();
        _client = _host.Client(await _host.CreateKeyAsync(new { name = "copy" }));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<JsonObject> WriteAsync(object body)
    {
        using var response = await _client.PostAsJsonAsync("v1/chat/completions", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task Simplified_and_traditional_copy_is_rewritten_before_it_is_returned_with_what_was_changed()
    {
        await AppTestKit.PublishAsync(_host, new { slug = "copy", name = "Copy", kind = "copywriter", model = "chat-echo", copywriter = new { variants = 2 } });
        var simplified = await WriteAsync(new { model = "app:copy", messages = new[] { new { role = "user", content = "全网第一的国家级护肤品，根治痘痘" } } });
        var choices = simplified["choices"]!.AsArray();
        Assert.Equal(2, choices.Count);
        var copy = choices[0]!["message"]!["content"]!.GetValue<string>();
        foreach (var banned in new[] { "第一", "国家级", "根治" })
        {
            Assert.DoesNotContain(banned, copy);
        }
        var report = simplified["compliance"]!.AsArray();
        Assert.Equal(2, report.Count);
        var changed = report[0]!["rewritten"]!.AsArray().Select(f => f!["term"]!.GetValue<string>()).ToList();
        Assert.Contains("国家级", changed);
        Assert.Contains("根治", changed);
        Assert.DoesNotContain(report[0]!["findings"]!.AsArray(), f => f!["suggestion"] is not null);

        var traditional = await WriteAsync(new { model = "app:copy", n = 1, messages = new[] { new { role = "user", content = "國家級頂級護膚品，無副作用" } } });
        var text = traditional["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.DoesNotContain("國家級", text);
        Assert.DoesNotContain("頂級", text);
        Assert.Contains(traditional["compliance"]![0]!["rewritten"]!.AsArray(), f => f!["term"]!.GetValue<string>() == "頂級");
        // Every variant is a model call of its own through the gateway, attributed to the app.
        var calls = (await _host.UsageRecordsAsync()).Where(r => r["endpoint"]!.GetValue<string>() == "chat.completions").ToList();
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.NotNull(c["app"]));
    }

    [Fact]
    public async Task Flag_mode_returns_the_copy_as_written_with_positions_rules_and_channel_limits()
    {
        await AppTestKit.PublishAsync(_host, new
        {
            slug = "note", name = "Note", kind = "copywriter", model = "chat-echo",
            copywriter = new { channel = "xiaohongshu", compliance = "flag" },
        });
        var brief = "标题：这是全网第一好用的超级无敌保湿面霜推荐合集\n最佳的选择";
        var result = await WriteAsync(new { model = "app:note", messages = new[] { new { role = "user", content = brief } } });
        var copy = result["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.StartsWith(brief, copy);
        var findings = result["compliance"]![0]!["findings"]!.AsArray();
        // The longest term wins: 全网第一, not 第一 inside it.
        var first = findings.Single(f => f!["term"]!.GetValue<string>().Contains("第一", StringComparison.Ordinal))!;
        Assert.Equal("全网第一", first["term"]!.GetValue<string>());
        Assert.Equal(copy.IndexOf("全网第一", StringComparison.Ordinal), first["start"]!.GetValue<int>());
        Assert.Equal(4, first["length"]!.GetValue<int>());
        Assert.Contains("第九条", first["rule"]!.GetValue<string>());
        Assert.Contains(findings, f => f!["term"]!.GetValue<string>() == "最佳");
        Assert.Contains(findings, f => f!["rule"]!.GetValue<string>() == "channel.title_length");
        Assert.Equal("xiaohongshu", result["channel"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_streamed_copy_is_checked_whole_and_bad_requests_change_nothing()
    {
        await AppTestKit.PublishAsync(_host, new { slug = "copy", name = "Copy", kind = "copywriter", model = "chat-echo" });
        using var streamed = await _client.PostAsJsonAsync("v1/chat/completions", new { model = "app:copy", stream = true, messages = new[] { new { role = "user", content = "唯一的首选好物" } } });
        var events = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        var text = string.Concat(chunks.Select(c => c["choices"]?[0]?["delta"]?["content"]?.GetValue<string>()));
        Assert.DoesNotContain("首选", text);
        Assert.NotEmpty(chunks[^1]["compliance"]![0]!["rewritten"]!.AsArray());

        var before = (await _host.UsageRecordsAsync()).Count(r => r["endpoint"]!.GetValue<string>() == "chat.completions");
        using var tooMany = await _client.PostAsJsonAsync("v1/chat/completions", new { model = "app:copy", n = 6, messages = new[] { new { role = "user", content = "x" } } });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        using var badChannel = await _client.PostAsJsonAsync("v1/chat/completions", new { model = "app:copy", inputs = new { channel = "fax" }, messages = new[] { new { role = "user", content = "x" } } });
        Assert.Equal(HttpStatusCode.BadRequest, badChannel.StatusCode);
        using var undeclared = await _client.PostAsJsonAsync("v1/chat/completions", new { model = "app:copy", inputs = new { colour = "red" }, messages = new[] { new { role = "user", content = "x" } } });
        Assert.Equal(HttpStatusCode.BadRequest, undeclared.StatusCode);
        Assert.Equal(before, (await _host.UsageRecordsAsync()).Count(r => r["endpoint"]!.GetValue<string>() == "chat.completions"));
    }
}
