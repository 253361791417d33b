using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Tests.Support;

namespace Mulan.Tests.Console.Chat;

/// <summary>Every numeric input of the chat API with every kind of bad value: 400 naming the field, nothing created or recorded.</summary>
public sealed class ChatNumericInputTests : IAsyncLifetime
{
    private MulanHost _host = null!;
    private string _app = null!;

    public async Task InitializeAsync()
    {
        _host = await ChatTestKit.StartAsync();
        _app = await ChatTestKit.PublishQaAsync(_host, "refunds", ChatTestKit.Refunds);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static readonly string[] BadBodyValues = ["0", "-1", "1.5", "1e300", "1e999", "\"1\"", "true", "[]", "{}"];
    private static readonly string[] BadQueryValues = ["0", "-1", "1.5", "1e300", "abc", "", "99999999999999999999"];

    [Fact]
    public async Task Bad_numbers_are_refused_with_the_field_named_and_nothing_changes()
    {
        var before = (await _host.UsageRecordsAsync()).Count;
        var failures = new List<string>();
        async Task Check(HttpResponseMessage response, string field, string what)
        {
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest || JsonNode.Parse(text)?["errors"] is not JsonObject errors
                || !errors.Any(e => e.Key == field || e.Key.EndsWith("." + field, StringComparison.Ordinal)))
            {
                failures.Add($"{what} → {(int)response.StatusCode} {text}");
            }
        }
        foreach (var v in BadBodyValues)
        {
            using var message = await _host.Admin.PostAsync("api/chat/refunds/messages",
                new StringContent($$"""{"message": "How long do refunds take?", "version": {{v}}}""", Encoding.UTF8, "application/json"));
            await Check(message, "version", "messages version " + v);
            using var share = await _host.Admin.PostAsync($"api/apps/{_app}/shares", new StringContent($$"""{"expiresInDays": {{v}}}""", Encoding.UTF8, "application/json"));
            await Check(share, "expiresInDays", "shares expiresInDays " + v);
        }
        foreach (var v in BadQueryValues)
        {
            var q = Uri.EscapeDataString(v);
            await Check(await _host.Admin.GetAsync($"api/chat/refunds?version={q}"), "version", "header version " + v);
            await Check(await _host.Admin.GetAsync($"api/chat/refunds/conversations?page={q}"), "page", "conversations page " + v);
            if (v.Length > 0)
            {
                await Check(await _host.Admin.GetAsync($"api/chat/refunds/passages/{q}"), "id", "passage " + v);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(before, (await _host.UsageRecordsAsync()).Count);
        Assert.Empty((await _host.Admin.GetFromJsonAsync<JsonObject>($"api/apps/{_app}/shares"))!["shares"]!.AsArray());
        Assert.DoesNotContain(_host.Vendor.Requests, r => r.Path.Contains("chat", StringComparison.Ordinal));
    }
}
