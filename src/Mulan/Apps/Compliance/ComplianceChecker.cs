using System.Runtime.CompilerServices;
using System.Text;
using Mulan.Apps.Copywriting;

namespace Mulan.Apps.Compliance;

/// <summary>
/// Checks copy against the built-in advertising-law rules, a workspace's extra rules and, when a channel is given,
/// the channel's length limits. Offline and in process: one pass over the text whatever the number of terms.
/// </summary>
public sealed class ComplianceChecker
{
    private readonly TermSet _builtIn;

    // Compiled once per list of workspace rules: a store hands out the same list until the rules change.
    private readonly ConditionalWeakTable<IReadOnlyList<ComplianceRule>, TermSet> _compiled = [];

    public ComplianceChecker()
    {
        BuiltIn = BuiltInRules.Load();
        _builtIn = TermSet.Build(BuiltIn);
    }

    public IReadOnlyList<ComplianceRule> BuiltIn { get; }

    /// <summary>The workspace's rules first (a term it lists takes its rule and suggestion from there), then the built-in ones.</summary>
    public TermSet TermsFor(IReadOnlyList<ComplianceRule> workspaceRules)
    {
        ArgumentNullException.ThrowIfNull(workspaceRules);
        return workspaceRules.Count == 0 ? _builtIn : _compiled.GetValue(workspaceRules, rules => TermSet.Build([.. rules, .. BuiltIn]));
    }

    /// <summary>
    /// Findings ordered by start; positions are UTF-16 indexes into <paramref name="text"/>. Term findings never
    /// overlap each other; a channel finding covers the title or body it is about, so it may contain term findings.
    /// </summary>
    /// <param name="channel">null, or a key of <see cref="ChannelPresets.All"/> (anything else throws <see cref="ArgumentException"/>).</param>
    public IReadOnlyList<ComplianceFinding> Check(string text, string? channel, IReadOnlyList<ComplianceRule> workspaceRules)
    {
        ArgumentNullException.ThrowIfNull(text);
        ChannelPreset? preset = null;
        if (channel is not null && !ChannelPresets.All.TryGetValue(channel, out preset))
        {
            throw new ArgumentException($"Unknown channel '{channel}'; one of {string.Join(", ", ChannelPresets.All.Keys)}.", nameof(channel));
        }
        var terms = TermsFor(workspaceRules);
        var findings = Describe(text, terms.Find(text, 0, openEnd: false, out _), terms);
        if (preset is not null)
        {
            findings.AddRange(ChannelCheck.Check(text, preset));
            findings.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.Length.CompareTo(a.Length));
        }
        return findings;
    }

    /// <summary>The text with every finding that has a suggestion replaced by it; the others are left as they are.</summary>
    public static string Rewrite(string text, IReadOnlyList<ComplianceFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(findings);
        var output = new StringBuilder(text.Length);
        var at = 0;
        foreach (var f in findings.Where(f => f.Suggestion is not null).OrderBy(f => f.Start))
        {
            if (f.Start < 0 || f.Length < 0 || f.Start + f.Length > text.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(findings), $"A finding at {f.Start} (length {f.Length}) lies outside the text ({text.Length}).");
            }
            if (f.Start < at)
            {
                continue; // overlaps one already replaced
            }
            output.Append(text, at, f.Start - at).Append(f.Suggestion);
            at = f.Start + f.Length;
        }
        return output.Append(text, at, text.Length - at).ToString();
    }

    /// <summary>Findings for the hits, each suggestion in the script of its text: the term's own characters decide,
    /// else the nearest Chinese character before it that only one script has, else the nearest after it.</summary>
    internal static List<ComplianceFinding> Describe(string text, List<TermSet.Hit> hits, TermSet terms, Script before = Script.Neutral)
    {
        var findings = new List<ComplianceFinding>(hits.Count);
        var scanned = 0;
        // Only needed while nothing before a hit decides: then the first deciding character of the whole text lies after it.
        Script? firstInText = null;
        foreach (var hit in hits)
        {
            for (; scanned < hit.Start; scanned++)
            {
                if (ChineseScripts.Of(text[scanned]) is not Script.Neutral and var s)
                {
                    before = s;
                }
            }
            var rule = terms.Rules[hit.Rule];
            var term = text.Substring(hit.Start, hit.Length);
            string? suggestion = null;
            if (rule.Suggestion is not null)
            {
                var script = ChineseScripts.Of(term) is not Script.Neutral and var own ? own
                    : before != Script.Neutral ? before : firstInText ??= ChineseScripts.Of(text);
                suggestion = MatchCase(terms.SuggestionFor(hit.Rule, script)!, term);
            }
            findings.Add(new ComplianceFinding(term, hit.Start, hit.Length, rule.Rule, rule.Category, suggestion));
        }
        return findings;
    }

    // "Best" → "Excellent", "BEST" → "EXCELLENT": English copy keeps its capitalisation.
    private static string MatchCase(string suggestion, string term)
    {
        var first = term.AsSpan().IndexOfAnyInRange('A', 'z');
        if (first < 0 || !char.IsAsciiLetter(term[first]) || suggestion.Length == 0 || !char.IsAsciiLetterUpper(term[first]))
        {
            return suggestion;
        }
        var letters = term.Count(char.IsAsciiLetter);
        return letters > 1 && term.Where(char.IsAsciiLetter).All(char.IsAsciiLetterUpper)
            ? suggestion.ToUpperInvariant()
            : char.ToUpperInvariant(suggestion[0]) + suggestion[1..];
    }
}
