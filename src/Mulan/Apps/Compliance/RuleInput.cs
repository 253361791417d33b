using System.Globalization;
using Mulan.Hosting.Problems;

namespace Mulan.Apps.Compliance;

/// <summary>A workspace's rules as a request gives them: every field may be missing until <see cref="Validate"/> says otherwise.</summary>
public sealed record RuleInput(IReadOnlyList<string?>? Terms, string? Category, string? Rule, string? Suggestion, IReadOnlyList<string?>? Exceptions)
{
    public const int MaxRules = 1000;
    public const int MaxTerms = 1000;
    public const int MaxExceptions = 1000;
    public const int MaxTermLength = 50;
    public const int MaxCategoryLength = 50;
    public const int MaxRuleLength = 500;
    public const int MaxSuggestionLength = 100;

    /// <summary>The rules, trimmed, or the errors keyed by JSON path (<c>rules[3].terms[0]</c>); never both.</summary>
    public static (IReadOnlyList<ComplianceRule> Rules, Dictionary<string, string[]> Errors) Validate(IReadOnlyList<RuleInput?>? rules)
    {
        var errors = new Dictionary<string, string[]>();
        var result = new List<ComplianceRule>();
        if (rules is null)
        {
            errors.AddError("rules", "required: an array of rules ([] removes them all)");
            return ([], errors);
        }
        if (rules.Count > MaxRules)
        {
            errors.AddError("rules", $"at most {MaxRules} rules (got {rules.Count})");
            return ([], errors);
        }
        int terms = 0, exceptions = 0;
        for (var i = 0; i < rules.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"rules[{i}]");
            if (rules[i] is not { } r)
            {
                errors.AddError(path, "must be a rule object");
                continue;
            }
            var ruleTerms = Texts(r.Terms, $"{path}.terms", MaxTermLength, ref terms, MaxTerms, "terms", errors);
            if (r.Terms is null or { Count: 0 })
            {
                errors.AddError($"{path}.terms", "required: at least one term");
            }
            var ruleExceptions = Texts(r.Exceptions, $"{path}.exceptions", MaxTermLength, ref exceptions, MaxExceptions, "exceptions", errors);
            var category = r.Category?.Trim();
            if (string.IsNullOrEmpty(category) || category.Length > MaxCategoryLength || !category.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
            {
                errors.AddError($"{path}.category", $"required: 1 to {MaxCategoryLength} characters of a-z, 0-9, '-' and '_' (such as absolute-claim)");
            }
            var text = r.Rule?.Trim();
            if (string.IsNullOrEmpty(text) || text.Length > MaxRuleLength || text.Any(char.IsControl))
            {
                errors.AddError($"{path}.rule", $"required: what the rule says, 1 to {MaxRuleLength} characters, no control characters");
            }
            var suggestion = r.Suggestion?.Trim();
            if (r.Suggestion is not null && (suggestion!.Length is 0 or > MaxSuggestionLength || suggestion.Any(char.IsControl)))
            {
                errors.AddError($"{path}.suggestion", $"1 to {MaxSuggestionLength} characters, no control characters (leave it out to flag only)");
            }
            result.Add(new ComplianceRule(ruleTerms, category ?? "", text ?? "", suggestion, ruleExceptions.Count == 0 ? null : ruleExceptions));
        }
        return errors.Count == 0 ? (result, errors) : ([], errors);
    }

    private static List<string> Texts(IReadOnlyList<string?>? items, string path, int maxLength, ref int total, int maxTotal, string what,
        Dictionary<string, string[]> errors)
    {
        var texts = new List<string>();
        for (var j = 0; j < (items?.Count ?? 0); j++)
        {
            var itemPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{j}]");
            var item = items![j]?.Trim();
            if (++total > maxTotal)
            {
                errors.AddError(itemPath, $"at most {maxTotal} {what} in all the rules together");
                break;
            }
            if (string.IsNullOrEmpty(item) || item.Length > maxLength || item.Any(char.IsControl))
            {
                errors.AddError(itemPath, $"1 to {maxLength} characters, no control characters");
                continue;
            }
            texts.Add(item);
        }
        return texts;
    }
}
