namespace Mulan.Governance.Pii;

/// <summary>
/// Runs every detector over a text and resolves overlaps: placeholder-shaped text first, then the longest span, and
/// between equally long ones the most specific kind (identity number, mobile, bank card, e-mail, then the
/// administrator's patterns in order). The result is ordered by position and never overlaps.
/// </summary>
public static class PiiScanner
{
    public static IReadOnlyList<PiiSpan> Scan(string text, DateOnly today, IReadOnlyList<PiiPattern> patterns)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(patterns);
        var found = new List<(PiiSpan Span, int Priority)>();
        var buffer = new List<PiiSpan>();
        void Take(int priority)
        {
            found.AddRange(buffer.Select(s => (s, priority)));
            buffer.Clear();
        }
        foreach (var match in PiiPlaceholder.Pattern().EnumerateMatches(text))
        {
            buffer.Add(new PiiSpan(match.Index, match.Length, PiiKinds.Placeholder));
        }
        Take(0);
        ChinaIdDetector.Detect(text, today, buffer);
        Take(1);
        ChinaMobileDetector.Detect(text, buffer);
        Take(2);
        BankCardDetector.Detect(text, today, buffer);
        Take(3);
        EmailDetector.Detect(text, buffer);
        Take(4);
        for (var i = 0; i < patterns.Count; i++)
        {
            patterns[i].Detect(text, 5 + i, found);
        }
        return Resolve(text.Length, found);
    }

    private static List<PiiSpan> Resolve(int textLength, List<(PiiSpan Span, int Priority)> found)
    {
        if (found.Count == 0)
        {
            return [];
        }
        // Placeholders first whatever their length: they must all be masked for restoring to be exact.
        found.Sort((a, b) =>
            (a.Priority == 0 ? 0 : 1).CompareTo(b.Priority == 0 ? 0 : 1) is var p and not 0 ? p
            : b.Span.Length.CompareTo(a.Span.Length) is var l and not 0 ? l
            : a.Priority.CompareTo(b.Priority) is var k and not 0 ? k
            : a.Span.Start.CompareTo(b.Span.Start));
        var taken = new bool[textLength];
        var kept = new List<PiiSpan>();
        foreach (var (span, _) in found)
        {
            if (taken.AsSpan(span.Start, span.Length).Contains(true))
            {
                continue;
            }
            taken.AsSpan(span.Start, span.Length).Fill(true);
            kept.Add(span);
        }
        kept.Sort((a, b) => a.Start.CompareTo(b.Start));
        return kept;
    }
}
