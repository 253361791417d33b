using System.Text;

namespace Mulan.Apps.Compliance;

/// <summary>
/// Finds terms in streamed model output and replaces them as the text goes by: compliance rewrites
/// (<see cref="Rewriting"/>) and an app's banned terms, masked with ＊ (<see cref="Masking"/>).
/// </summary>
/// <remarks>
/// <para>Text is released as soon as it is decided. What is held back is the end of the text that could still be
/// the beginning of a term or an exception (at most the longest one's length less one character), or a term that
/// ends the text so far and needs a word boundary after it; so a term split across deltas is still caught and
/// nothing else is delayed. One exception, for overlapping candidates only: a candidate the cut would split is held
/// with everything that overlaps it, because text still to come could change which of them wins.</para>
/// <para>The output is what <see cref="ComplianceChecker.Rewrite"/> makes of the whole text, however it is split;
/// the script of a suggestion for a term that has none of its own (第一) follows the text before it, and only
/// when nothing before it decides does the filter look ahead no further than the text it holds.</para>
/// </remarks>
public sealed class StreamingTermFilter
{
    public const string BannedTermCategory = "banned-term";
    public const string BannedTermRule = "guardrails.bannedTerms";

    private readonly TermSet _terms;
    private readonly Func<ComplianceFinding, string?> _replace;
    private readonly StringBuilder _pending = new();
    private readonly List<ComplianceFinding> _findings = [];
    private char? _lastReleased;
    private Script _script;
    private int _released;

    /// <param name="replace">what to release in a finding's place; null releases the term as it is (and still reports it).</param>
    public StreamingTermFilter(TermSet terms, Func<ComplianceFinding, string?> replace)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(replace);
        _terms = terms;
        _replace = replace;
    }

    /// <summary>Replaces each term by its rule's suggestion (in the script of the text); terms without one pass unchanged.</summary>
    public static StreamingTermFilter Rewriting(TermSet terms) => new(terms, f => f.Suggestion);

    /// <summary>Masks each banned term with as many ＊ as it has characters.</summary>
    public static StreamingTermFilter Masking(IReadOnlyList<string> bannedTerms) =>
        new(TermSet.Build([new ComplianceRule(bannedTerms, BannedTermCategory, BannedTermRule)]), f => Mask(f.Term));

    public static string Mask(string term) => new('＊', term.EnumerateRunes().Count());

    /// <summary>
    /// Every term released so far. <see cref="ComplianceFinding.Term"/> is the text as the model wrote it;
    /// <see cref="ComplianceFinding.Start"/> and <see cref="ComplianceFinding.Length"/> locate what was released in its
    /// place, as UTF-16 indexes into the concatenation of everything <see cref="Push"/> and <see cref="Flush"/> returned.
    /// </summary>
    public IReadOnlyList<ComplianceFinding> Findings => _findings;

    /// <summary>The longest text this filter may hold back before <see cref="Flush"/>, in UTF-16 code units, for overlapping candidates aside.</summary>
    public int MaxHeldBack => _terms.LongestPattern;

    /// <summary>Adds the next piece of model output; returns what is safe to release now (possibly "").</summary>
    public string Push(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        _pending.Append(delta);
        return Release(final: false);
    }

    /// <summary>The end of the output: releases everything still held.</summary>
    public string Flush() => Release(final: true);

    private string Release(bool final)
    {
        if (_pending.Length == 0)
        {
            return "";
        }
        var from = _lastReleased is null ? 0 : 1;
        var window = (_lastReleased?.ToString() ?? "") + _pending;
        var hits = _terms.Find(window, from, openEnd: !final, out var undecided);
        var cut = final ? window.Length : undecided;
        hits.RemoveAll(h => h.End > cut);
        var output = new StringBuilder(cut - from);
        var at = from;
        foreach (var f in ComplianceChecker.Describe(window, hits, _terms, _script))
        {
            output.Append(window, at, f.Start - at);
            var released = _replace(f) ?? f.Term;
            _findings.Add(f with { Start = _released + output.Length, Length = released.Length });
            output.Append(released);
            at = f.Start + f.Length;
        }
        output.Append(window, at, cut - at);
        for (var i = from; i < cut; i++)
        {
            if (ChineseScripts.Of(window[i]) is not Script.Neutral and var s)
            {
                _script = s;
            }
        }
        if (cut > from)
        {
            _lastReleased = window[cut - 1];
            _pending.Remove(0, cut - from);
        }
        _released += output.Length;
        return output.ToString();
    }
}
