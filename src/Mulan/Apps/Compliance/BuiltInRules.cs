using System.Text.Json;

namespace Mulan.Apps.Compliance;

/// <summary>The rules shipped with Mulan, read from <c>advertising-law.json</c> (an embedded resource).</summary>
internal static class BuiltInRules
{
    private const string ResourceName = "Mulan.Apps.Compliance.advertising-law.json";

    private sealed record Document(IReadOnlyList<Law> Laws);

    private sealed record Law(string Category, string Rule, IReadOnlyList<Group> Groups, IReadOnlyList<string>? Exceptions);

    private sealed record Group(IReadOnlyList<string> Terms, string? Suggestion);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>One rule per group of terms. A law's exceptions go with the groups whose terms they contain, which is
    /// where a reader looks for them (matching applies every exception to every term either way).</summary>
    public static IReadOnlyList<ComplianceRule> Load()
    {
        using var stream = typeof(BuiltInRules).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        var document = JsonSerializer.Deserialize<Document>(stream, Json)
            ?? throw new InvalidOperationException($"{ResourceName} is empty.");
        var rules = new List<ComplianceRule>();
        foreach (var law in document.Laws)
        {
            foreach (var group in law.Groups)
            {
                var folded = group.Terms.Select(TermSet.FoldText).ToList();
                var exceptions = (law.Exceptions ?? []).Where(e => folded.Exists(TermSet.FoldText(e).Contains)).ToList();
                rules.Add(new ComplianceRule(group.Terms, law.Category, law.Rule, group.Suggestion, exceptions.Count == 0 ? null : exceptions));
            }
        }
        return rules;
    }
}
