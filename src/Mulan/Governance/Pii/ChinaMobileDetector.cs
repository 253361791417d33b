using System.Text.RegularExpressions;

namespace Mulan.Governance.Pii;

/// <summary>Mainland mobile numbers: 1[3-9] and nine digits, with an optional +86/86/0086 prefix, plain or grouped 3-4-4.</summary>
internal static partial class ChinaMobileDetector
{
    [GeneratedRegex("(?<![0-9A-Za-z+])(?:(?:\\+86|0086|86)[ -]?)?1[3-9][0-9]{9}(?![0-9A-Za-z])", RegexOptions.CultureInvariant)]
    private static partial Regex Plain();

    // A grouped number must not be a piece of a longer grouped run ("6222 138 0013 8000 1234"), so a digit across one
    // separator on either side rules it out as well.
    [GeneratedRegex("(?<![0-9A-Za-z+]|[0-9][ -])(?:(?:\\+86|0086|86)[ -]?)?1[3-9][0-9]([ -])[0-9]{4}\\1[0-9]{4}(?![0-9A-Za-z]|[ -][0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Grouped();

    [GeneratedRegex("^(?:86|0086)?1[3-9][0-9]{9}$", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();

    public static void Detect(string text, List<PiiSpan> found)
    {
        foreach (var match in Plain().EnumerateMatches(text))
        {
            found.Add(new PiiSpan(match.Index, match.Length, PiiKinds.ChinaMobile));
        }
        foreach (var match in Grouped().EnumerateMatches(text))
        {
            found.Add(new PiiSpan(match.Index, match.Length, PiiKinds.ChinaMobile));
        }
    }

    /// <summary>Whether bare digits are a mobile number, prefix or not (a bank card detector must not claim them).</summary>
    public static bool IsMobile(string digits) => Digits().IsMatch(digits);
}
