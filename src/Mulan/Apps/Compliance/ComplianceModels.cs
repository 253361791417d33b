namespace Mulan.Apps.Compliance;

/// <summary>
/// Terms that one rule forbids, what the rule says and, optionally, what to write instead. Built-in rules and a
/// workspace's extra rules have this one shape.
/// </summary>
/// <param name="Category">absolute-claim, efficacy-claim, false-claim, guarantee, or a workspace's own word.</param>
/// <param name="Rule">the rule as people read it, e.g. 《广告法》第九条第三项.</param>
/// <param name="Suggestion">the replacement for every term of the rule, in either Chinese script (it is converted to the
/// script of the text it replaces); null: flag only, a person must reword it.</param>
/// <param name="Exceptions">phrases in which a term of this rule is not a claim (第一次, 100%纯棉): a term lying
/// wholly inside one of them is not reported.</param>
public sealed record ComplianceRule(IReadOnlyList<string> Terms, string Category, string Rule, string? Suggestion = null,
    IReadOnlyList<string>? Exceptions = null);

/// <summary>One problem found in a text.</summary>
/// <param name="Term">the text as it appears at <paramref name="Start"/> (its own script and width).</param>
/// <param name="Start">UTF-16 index into the checked text (what .NET <c>string</c> and JavaScript indexes count).</param>
/// <param name="Length">UTF-16 code units.</param>
/// <param name="Rule">the rule's text, or a channel check's name such as <c>channel.title_length</c>.</param>
/// <param name="Suggestion">the replacement, already in the script of <paramref name="Term"/>; null when there is none.</param>
/// <param name="Detail">what a channel check measured ("title is 25 characters; xiaohongshu allows 20"); null for terms.</param>
public sealed record ComplianceFinding(string Term, int Start, int Length, string Rule, string Category, string? Suggestion = null, string? Detail = null);
