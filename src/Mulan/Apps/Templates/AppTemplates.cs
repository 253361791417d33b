using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace Mulan.Apps.Templates;

/// <summary>One entry of the template gallery: what a picker shows before the definition itself is fetched.</summary>
/// <param name="Name">the template's name, also the slug its definition suggests.</param>
/// <param name="Language">zh-Hans, zh-Hant or en: the language of its instructions, opening message and questions.</param>
public sealed record AppTemplate(string Name, string Language, string Kind, string Title, string? Description);

/// <summary>
/// The built-in app templates: complete definitions, embedded in the executable (<c>{name}.{language}.json</c>), that an
/// integrator starts from. Knowledge bases and the model are placeholder names (<c>hr-policies</c>, <c>chat</c>) that
/// creating or importing the app maps onto the workspace's own.
/// </summary>
public static class AppTemplates
{
    public static readonly string[] Languages = ["zh-Hans", "zh-Hant", "en"];

    private const string Prefix = "Mulan.Apps.Templates.";

    // Parsed once; Get hands out deep copies, so a caller that edits its copy cannot change the gallery.
    private static readonly Lazy<FrozenDictionary<(string Name, string Language), JsonObject>> Definitions = new(Load);

    /// <summary>Every template in every language, by name then language in the order of <see cref="Languages"/>.</summary>
    public static IReadOnlyList<AppTemplate> All { get; } = [.. Definitions.Value
        .Select(t => new AppTemplate(t.Key.Name, t.Key.Language, (string)t.Value["kind"]!, (string)t.Value["name"]!, (string?)t.Value["description"]))
        .OrderBy(t => t.Name, StringComparer.Ordinal).ThenBy(t => Array.IndexOf(Languages, t.Language))];

    /// <summary>The template's definition, a fresh copy; null when there is no such template in that language.</summary>
    public static JsonObject? Get(string name, string language) =>
        Definitions.Value.TryGetValue((name, language), out var definition) ? (JsonObject)definition.DeepClone() : null;

    private static FrozenDictionary<(string, string), JsonObject> Load()
    {
        var assembly = typeof(AppTemplates).Assembly;
        var templates = new Dictionary<(string, string), JsonObject>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal)))
        {
            // "hr-policy-qa.zh-Hant": the language is what follows the last dot that starts a known language.
            var stem = resource[Prefix.Length..^".json".Length];
            var language = Languages.Single(l => stem.EndsWith("." + l, StringComparison.Ordinal));
            using var stream = assembly.GetManifestResourceStream(resource)!;
            templates[(stem[..^(language.Length + 1)], language)] = JsonNode.Parse(stream)!.AsObject();
        }
        return templates.ToFrozenDictionary();
    }
}
