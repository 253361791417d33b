using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Apps.Compliance;

/// <summary>
/// The terms and exceptions of a set of rules, compiled into one Aho–Corasick automaton over folded text, so a
/// text of any length is searched for every term in one pass.
/// </summary>
/// <remarks>
/// Folding is character by character and never changes the length, so every position found in the folded text
/// is a UTF-16 position in the original: a character folds to its keyword-index form (Traditional to Simplified,
/// full width to half width, upper to lower case) only when that form is a single UTF-16 character, and otherwise
/// stays as it is (upper-cased Latin letters are still lower-cased). A term whose first or last character is an
/// ASCII letter or digit matches only at a word boundary there: "best" is not found in "bestseller", nor "100%" in
/// "1100%". Terms shared by several rules belong to the first rule that lists them.
/// </remarks>
public sealed class TermSet
{
    private static readonly char[] FoldTable = BuildFoldTable();

    private readonly Pattern[] _patterns;
    private readonly int[] _rootNext;
    private readonly Dictionary<long, int> _next;
    private readonly int[] _fail;
    private readonly int[] _depth;
    private readonly int[] _firstOutput;
    private readonly int[] _outputLink;
    private readonly bool[] _keepsOpen;

    private TermSet(IReadOnlyList<ComplianceRule> rules, Pattern[] patterns, int[] rootNext, Dictionary<long, int> next, int[] fail, int[] depth,
        int[] firstOutput, int[] outputLink, bool[] keepsOpen)
    {
        Rules = rules;
        _patterns = patterns;
        _rootNext = rootNext;
        _next = next;
        _fail = fail;
        _depth = depth;
        _firstOutput = firstOutput;
        _outputLink = outputLink;
        _keepsOpen = keepsOpen;
        LongestPattern = patterns.Length == 0 ? 0 : patterns.Max(p => p.Length);
    }

    public IReadOnlyList<ComplianceRule> Rules { get; }

    // Each rule's suggestion in each script, converted once: [rule * 3 + script].
    private string?[]? _suggestions;

    internal string? SuggestionFor(int rule, Script script)
    {
        var table = _suggestions ??= [.. Rules.SelectMany(r => new[] { Script.Neutral, Script.Simplified, Script.Traditional }
            .Select(s => r.Suggestion is { } text ? ChineseScripts.To(s, text) : null))];
        return table[rule * 3 + (int)script];
    }

    /// <summary>The longest term or exception, in UTF-16 code units.</summary>
    public int LongestPattern { get; }

    internal readonly record struct Pattern(int Rule, int Length, bool IsException, bool NeedsLeftBoundary, bool NeedsRightBoundary, int NextAtNode);

    /// <summary>A term or exception found in the text.</summary>
    /// <param name="Open">its right boundary is not known yet (the text may go on).</param>
    internal readonly record struct Hit(int Start, int Length, int Rule, bool Open)
    {
        public int End => Start + Length;
    }

    public static TermSet Build(IReadOnlyList<ComplianceRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var patterns = new List<(string Folded, int Rule, bool IsException)>();
        var seenTerms = new HashSet<string>(StringComparer.Ordinal);
        var seenExceptions = new HashSet<string>(StringComparer.Ordinal);
        for (var r = 0; r < rules.Count; r++)
        {
            foreach (var term in rules[r].Terms)
            {
                if (term.Length > 0 && seenTerms.Add(FoldText(term)))
                {
                    patterns.Add((FoldText(term), r, false));
                }
            }
            foreach (var exception in rules[r].Exceptions ?? [])
            {
                if (exception.Length > 0 && seenExceptions.Add(FoldText(exception)))
                {
                    patterns.Add((FoldText(exception), r, true));
                }
            }
        }

        // The trie: the root's transitions in a flat table (most characters of a text leave the root at once), the rest in one dictionary.
        var rootNext = new int[char.MaxValue + 1];
        var next = new Dictionary<long, int>();
        var depth = new List<int> { 0 };
        var terminal = new List<int> { -1 };
        var hasChildren = new List<bool> { false };
        var compiled = new Pattern[patterns.Count];
        for (var p = 0; p < patterns.Count; p++)
        {
            var (folded, rule, isException) = patterns[p];
            var node = 0;
            foreach (var c in folded)
            {
                var child = node == 0 ? rootNext[c] : next.GetValueOrDefault(Key(node, c));
                if (child == 0)
                {
                    child = depth.Count;
                    depth.Add(depth[node] + 1);
                    terminal.Add(-1);
                    hasChildren.Add(false);
                    hasChildren[node] = true;
                    if (node == 0)
                    {
                        rootNext[c] = child;
                    }
                    else
                    {
                        next[Key(node, c)] = child;
                    }
                }
                node = child;
            }
            compiled[p] = new Pattern(rule, folded.Length, isException, IsWord(folded[0]), IsWord(folded[^1]), terminal[node]);
            terminal[node] = p;
        }

        // Failure links breadth first; a node's outputs continue at its nearest proper suffix that has any.
        var count = depth.Count;
        var fail = new int[count];
        var outputLink = new int[count];
        var keepsOpen = new bool[count];
        var children = new List<(int Child, char C)>[count];
        foreach (var (key, child) in next)
        {
            (children[(int)(key >> 16)] ??= []).Add((child, (char)(key & 0xFFFF)));
        }
        var queue = new Queue<int>();
        for (var c = 0; c <= char.MaxValue; c++)
        {
            if (rootNext[c] != 0)
            {
                queue.Enqueue(rootNext[c]);
            }
        }
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            var f = fail[node];
            outputLink[node] = terminal[f] >= 0 ? f : outputLink[f];
            keepsOpen[node] = hasChildren[node] || EndsNeedingBoundary(node);
            foreach (var (child, c) in children[node] ?? [])
            {
                var s = f;
                var target = 0;
                while (true)
                {
                    var t = s == 0 ? rootNext[c] : next.GetValueOrDefault(Key(s, c));
                    if (t != 0 && t != child)
                    {
                        target = t;
                        break;
                    }
                    if (s == 0)
                    {
                        break;
                    }
                    s = fail[s];
                }
                fail[child] = target;
                queue.Enqueue(child);
            }
        }
        return new TermSet(rules, compiled, rootNext, next, fail, [.. depth], [.. terminal], outputLink, keepsOpen);

        bool EndsNeedingBoundary(int node)
        {
            for (var p = terminal[node]; p >= 0; p = compiled[p].NextAtNode)
            {
                if (compiled[p].NeedsRightBoundary)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>
    /// The accepted matches in <c>text[from..]</c>, in order: terms not inside an exception, overlaps resolved
    /// longest first (of equal lengths, the earlier). Characters before <paramref name="from"/> are only read as a
    /// word boundary.
    /// </summary>
    /// <param name="openEnd">the text may go on: a match that needs a word boundary at the very end is kept as open.</param>
    /// <param name="undecided">where the text stops being final: the start of the longest suffix that may still begin
    /// a match, moved back over any match it would cut; equals the text's length when everything is decided.</param>
    internal List<Hit> Find(ReadOnlySpan<char> text, int from, bool openEnd, out int undecided)
    {
        var terms = new List<Hit>();
        List<Hit>? exceptions = null;
        var state = 0;
        for (var i = from; i < text.Length; i++)
        {
            state = Step(state, FoldTable[text[i]]);
            for (var node = _firstOutput[state] >= 0 ? state : _outputLink[state]; node != 0; node = _outputLink[node])
            {
                for (var p = _firstOutput[node]; p >= 0; p = _patterns[p].NextAtNode)
                {
                    var pattern = _patterns[p];
                    var start = i - pattern.Length + 1;
                    if (pattern.NeedsLeftBoundary && start > 0 && IsWord(FoldTable[text[start - 1]]))
                    {
                        continue;
                    }
                    var open = false;
                    if (pattern.NeedsRightBoundary)
                    {
                        if (i + 1 < text.Length)
                        {
                            if (IsWord(FoldTable[text[i + 1]]))
                            {
                                continue;
                            }
                        }
                        else
                        {
                            open = openEnd;
                        }
                    }
                    var hit = new Hit(start, pattern.Length, pattern.Rule, open);
                    if (pattern.IsException)
                    {
                        (exceptions ??= []).Add(hit);
                    }
                    else
                    {
                        terms.Add(hit);
                    }
                }
            }
        }

        undecided = text.Length;
        if (openEnd)
        {
            var held = state;
            while (held != 0 && !_keepsOpen[held])
            {
                held = _fail[held];
            }
            undecided = text.Length - _depth[held];
        }
        if (terms.Count == 0)
        {
            return terms;
        }
        if (exceptions is not null)
        {
            // An exception covers a term when it starts at or before it and ends at or after it: the furthest end of
            // the exceptions starting up to each position answers that for every term in one pass.
            var furthestEnd = new int[text.Length - from];
            foreach (var e in exceptions)
            {
                furthestEnd[e.Start - from] = Math.Max(furthestEnd[e.Start - from], e.End);
            }
            for (var i = 1; i < furthestEnd.Length; i++)
            {
                furthestEnd[i] = Math.Max(furthestEnd[i], furthestEnd[i - 1]);
            }
            terms.RemoveAll(t => furthestEnd[t.Start - from] >= t.End);
        }

        // Hits come in the order they end; when none overlaps the one before, that is also the order they start and there is nothing to resolve.
        var overlapping = false;
        for (var k = 1; k < terms.Count && !overlapping; k++)
        {
            overlapping = terms[k].Start < terms[k - 1].End;
        }
        var accepted = overlapping ? Resolve(terms, text.Length - from, from) : terms;

        if (openEnd)
        {
            // A candidate that crosses the cut could still lose to (or win against) text not seen yet, and so could
            // anything overlapping it: keep the whole group undecided.
            var all = terms.Concat(exceptions ?? []).ToList();
            for (var moved = true; moved;)
            {
                moved = false;
                foreach (var h in all)
                {
                    if (h.Start < undecided && h.End > undecided)
                    {
                        undecided = h.Start;
                        moved = true;
                    }
                }
            }
        }
        return accepted;
    }

    // Longest first, then earliest; a match overlapping one already taken is dropped.
    private static List<Hit> Resolve(List<Hit> terms, int length, int from)
    {
        var bySize = terms.ToArray();
        Array.Sort(bySize, static (a, b) => a.Length != b.Length ? b.Length.CompareTo(a.Length) : a.Start.CompareTo(b.Start));
        var taken = new bool[length];
        var accepted = new List<Hit>();
        foreach (var hit in bySize)
        {
            if (taken.AsSpan(hit.Start - from, hit.Length).Contains(true))
            {
                continue;
            }
            taken.AsSpan(hit.Start - from, hit.Length).Fill(true);
            accepted.Add(hit);
        }
        accepted.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return accepted;
    }

    private int Step(int state, char c)
    {
        while (true)
        {
            var t = state == 0 ? _rootNext[c] : _next.GetValueOrDefault(Key(state, c));
            if (t != 0 || state == 0)
            {
                return t;
            }
            state = _fail[state];
        }
    }

    private static long Key(int node, char c) => ((long)node << 16) | c;

    internal static bool IsWord(char folded) => char.IsAsciiLetterOrDigit(folded);

    /// <summary>The text as matching compares it; the same length as <paramref name="text"/>.</summary>
    public static string FoldText(string text) => string.Create(text.Length, text, static (span, t) =>
    {
        for (var i = 0; i < t.Length; i++)
        {
            span[i] = FoldTable[t[i]];
        }
    });

    private static char[] BuildFoldTable()
    {
        var table = new char[char.MaxValue + 1];
        for (var c = 0; c <= char.MaxValue; c++)
        {
            var ch = (char)c;
            table[c] = char.IsSurrogate(ch) ? ch
                : CharacterFolding.Map.Lookup(c) is { Length: 1 } folded ? folded[0]
                : char.ToLowerInvariant(ch);
        }
        return table;
    }
}
