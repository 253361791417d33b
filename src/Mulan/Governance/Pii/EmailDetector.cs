using System.Text.RegularExpressions;

namespace Mulan.Governance.Pii;

/// <summary>
/// A practical e-mail address: ASCII local part, dotted domain, alphabetic top-level domain. Each repetition is bounded
/// (local part 64, label 63) and the lookbehind lets a match start only where a run begins, so the scan stays linear.
/// </summary>
internal static partial class EmailDetector
{
    [GeneratedRegex("(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-]|\\.[A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Address();

    public static void Detect(string text, List<PiiSpan> found)
    {
        foreach (var match in Address().EnumerateMatches(text))
        {
            found.Add(new PiiSpan(match.Index, match.Length, PiiKinds.Email));
        }
    }
}
