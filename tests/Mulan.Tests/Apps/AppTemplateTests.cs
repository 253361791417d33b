using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mulan.Apps;
using Mulan.Apps.Templates;
using Mulan.Knowledge.Indexing.Keyword;
using Mulan.Tests.Support;

namespace Mulan.Tests.Apps;

public sealed class AppTemplateTests
{
    public static TheoryData<string, string> Templates()
    {
        var data = new TheoryData<string, string>();
        foreach (var t in AppTemplates.All)
        {
            data.Add(t.Name, t.Language);
        }
        return data;
    }

    [Fact]
    public void The_gallery_has_every_template_in_all_three_languages()
    {
        var names = AppTemplates.All.Select(t => t.Name).Distinct().ToList();
        Assert.Superset(new HashSet<string> { "hr-policy-qa", "customer-service-faq", "product-copywriter", "meeting-notes" }, names.ToHashSet());
        foreach (var name in names)
        {
            Assert.Equal(AppTemplates.Languages, AppTemplates.All.Where(t => t.Name == name).Select(t => t.Language).ToArray());
        }
        Assert.Null(AppTemplates.Get("hr-policy-qa", "fr"));
        Assert.Null(AppTemplates.Get("no-such-template", "en"));
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_template_is_a_valid_definition(string name, string language)
    {
        var errors = new Dictionary<string, string[]>();
        var definition = AppDefinitionReader.Read(AppTemplates.Get(name, language)!, errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        Assert.Equal(name, definition!.Slug);
        Assert.Equal("chat", definition.Model);
        Assert.Equal(AppTemplates.All.Single(t => t.Name == name && t.Language == language).Kind, definition.Kind);
        if (definition.Kind == AppKinds.KnowledgeQa)
        {
            Assert.NotEmpty(definition.KnowledgeBases!);
            Assert.Equal(language, definition.Answer?.Language);
            Assert.NotEmpty(definition.SuggestedQuestions!);
        }
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Traditional_templates_hold_no_simplified_only_characters_and_the_others_are_not_traditional(string name, string language)
    {
        var text = AppTemplates.Get(name, language)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var changed = string.Concat(text.Zip(ChineseScript.ToTraditional(text)).Where(p => p.First != p.Second).Select(p => p.First).Distinct());
        switch (language)
        {
            case "zh-Hant":
                Assert.True(changed.Length == 0, $"Simplified characters in {name}.{language}: {changed}");
                break;
            case "zh-Hans":
                // Catches a Traditional file saved under the Simplified name.
                Assert.NotEqual(text, ChineseScript.ToTraditional(text));
                break;
            default:
                Assert.DoesNotContain(text, c => c is >= '\u4e00' and <= '\u9fff');
                break;
        }
    }

    [Fact]
    public void The_meeting_notes_template_takes_the_notes_and_writes_without_a_channel_or_compliance()
    {
        foreach (var language in AppTemplates.Languages)
        {
            var d = AppDefinitionReader.Read(AppTemplates.Get("meeting-notes", language)!, [])!;
            Assert.Equal(AppKinds.Copywriter, d.Kind);
            Assert.Null(d.Copywriter!.Channel);
            Assert.Equal("off", d.Copywriter.Compliance);
            Assert.Contains(d.Variables!, v => v is { Name: "notes", Required: true });
            Assert.Contains("{{notes}}", d.Instructions, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_gallery_is_served_to_the_administrator_and_to_virtual_keys_only()
    {
        await using var host = await MulanHost.StartAsync();
        var list = await host.Admin.GetFromJsonAsync<JsonObject>("api/app-templates");
        Assert.Equal(AppTemplates.All.Count, list!["templates"]!.AsArray().Count);
        var first = list["templates"]![0]!;
        Assert.Equal(("customer-service-faq", "zh-Hans", "knowledge-qa", "客服常见问题"),
            (first["name"]!.GetValue<string>(), first["language"]!.GetValue<string>(), first["kind"]!.GetValue<string>(), first["title"]!.GetValue<string>()));

        using var key = host.Client(await host.CreateKeyAsync());
        var hant = await key.GetFromJsonAsync<JsonObject>("api/app-templates/hr-policy-qa?language=zh-Hant");
        Assert.Equal("人資政策問答", hant!["name"]!.GetValue<string>());
        Assert.Equal(["hr-policies"], hant["knowledgeBases"]!.AsArray().Select(k => k!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.NotFound, (await host.Admin.GetAsync("api/app-templates/nothing-like-it?language=en")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.Admin.GetAsync("api/app-templates/hr-policy-qa?language=fr")).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = host.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/app-templates")).StatusCode);
    }
}
